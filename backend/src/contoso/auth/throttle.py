"""Brute-force protection for logins, on the `limits` library (moving windows).

Only failures count, per account and client: after `login_rate_limit` failed
attempts in the window, that pair gets 429 with Retry-After until the oldest
failure leaves the window. A success clears the count.
"""

import math
import time

from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from contoso.errors import TooManyAttempts


class LoginThrottle:
    def __init__(self, limit: str, storage_uri: str) -> None:
        self._item = parse(limit)
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    async def check(self, email: str, client: str) -> None:
        """TooManyAttempts if this account has failed too often from this client."""
        if await self._limiter.test(self._item, email, client):
            return
        reset_at, _ = await self._limiter.get_window_stats(self._item, email, client)
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise TooManyAttempts(
            f"Too many failed logins for this account; try again in {retry_after} seconds.",
            retry_after=retry_after,
        )

    async def failed(self, email: str, client: str) -> None:
        await self._limiter.hit(self._item, email, client)

    async def succeeded(self, email: str, client: str) -> None:
        await self._limiter.clear(self._item, email, client)

    async def reset(self) -> None:
        """Forget every count (between tests; or by an operator after an incident)."""
        await self._limiter.storage.reset()
