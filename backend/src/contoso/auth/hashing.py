"""Password hashing with libpass (the maintained passlib fork), always off the event loop."""

import asyncio
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from passlib.context import CryptContext

T = TypeVar("T")

# bcrypt is deliberately expensive. A few low-priority threads do it, so a burst of
# logins queues for its turn instead of taking the CPU from every other request.
HASHING_THREADS = 2


def _lower_priority() -> None:
    if sys.platform == "linux":  # per-thread niceness is a Linux feature
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 15)


@dataclass(frozen=True)
class PasswordCheck:
    valid: bool
    # A fresh hash to store when the old one used a deprecated scheme or cost.
    new_hash: str | None = None


class PasswordHasher:
    """bcrypt_sha256 hashes; plain bcrypt hashes still verify and are upgraded."""

    def __init__(self, rounds: int) -> None:
        # bcrypt_sha256 pre-hashes, so passwords longer than bcrypt's 72 bytes
        # are not silently truncated.
        self._context = CryptContext(
            schemes=["bcrypt_sha256", "bcrypt"],
            deprecated=["bcrypt"],
            bcrypt_sha256__rounds=rounds,
        )
        # Verified against when the email is unknown, so that path costs the same.
        self._dummy_hash = self._context.hash("timing-equaliser")
        self._threads = ThreadPoolExecutor(
            HASHING_THREADS, thread_name_prefix="password-hash", initializer=_lower_priority
        )

    async def _off_loop(self, work: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, work, *args)

    async def hash(self, password: str) -> str:
        return await self._off_loop(self._context.hash, password)

    async def verify(self, password: str, password_hash: str | None) -> PasswordCheck:
        """Check `password`; with no hash (unknown user) do the same work and fail."""
        valid, new_hash = await self._off_loop(
            self._context.verify_and_update, password, password_hash or self._dummy_hash
        )
        if password_hash is None:
            return PasswordCheck(valid=False)
        return PasswordCheck(valid=valid, new_hash=new_hash)
