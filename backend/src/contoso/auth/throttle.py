"""Brute-force protection for logins, on the `limits` library (moving windows).

Every attempt takes a slot per account and client before the password is checked;
after `login_rate_limit` attempts in the window, that pair gets 429 with Retry-After
until the oldest leaves the window. A correct password gives the slots back.
"""

import math
import time

from limits import parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from contoso.errors import TooManyAttempts


class _MemoryStorage(MemoryStorage):
    """limits' in-process storage, made safe for giving slots back.

    limits 5.8 expires old attempts in a background task that reads every key it listed
    a moment before; `clear` deleted a key under it (a KeyError in a server log, and
    that round of expiry lost). Emptying the key instead leaves it for that task to drop.
    """

    async def clear(self, key: str) -> None:
        self.storage.pop(key, None)
        self.expirations.pop(key, None)
        if key in self.events:
            self.events[key] = []


class LoginThrottle:
    def __init__(self, limit: str, storage_uri: str) -> None:
        self._item = parse(limit)
        storage = (
            _MemoryStorage(storage_uri)
            if storage_uri.startswith("async+memory://")
            else storage_from_string(storage_uri)
        )
        if not isinstance(storage, Storage):
            raise ValueError(
                "LOGIN_RATE_LIMIT_STORAGE must be an async storage, e.g. async+memory:// "
                f"or async+redis://host:6379, not {storage_uri!r}"
            )
        self.storage = storage
        self._limiter = MovingWindowRateLimiter(self.storage)

    async def attempt(self, email: str, client: str) -> None:
        """Take one of this account's attempts from this client, or TooManyAttempts.

        Taken before the password hash runs (~0.3 s), in one atomic step of the
        storage: counting only after a failure let concurrent guesses all pass the
        check before the first was counted.
        """
        if await self._limiter.hit(self._item, email, client):
            return
        reset_at, _ = await self._limiter.get_window_stats(self._item, email, client)
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise TooManyAttempts(
            f"Too many failed logins for this account; try again in {retry_after} seconds.",
            retry_after=retry_after,
        )

    async def succeeded(self, email: str, client: str) -> None:
        """The password was right: this pair's attempts are given back."""
        await self._limiter.clear(self._item, email, client)

    async def reset(self) -> None:
        """Forget every count (between tests; or by an operator after an incident)."""
        await self.storage.reset()
