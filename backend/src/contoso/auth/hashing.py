"""Password hashing with libpass (the maintained passlib fork), always off the event loop."""

from dataclasses import dataclass

import anyio.to_thread
from passlib.context import CryptContext


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

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._context.hash, password)

    async def verify(self, password: str, password_hash: str | None) -> PasswordCheck:
        """Check `password`; with no hash (unknown user) do the same work and fail."""
        valid, new_hash = await anyio.to_thread.run_sync(
            self._context.verify_and_update, password, password_hash or self._dummy_hash
        )
        if password_hash is None:
            return PasswordCheck(valid=False)
        return PasswordCheck(valid=valid, new_hash=new_hash)
