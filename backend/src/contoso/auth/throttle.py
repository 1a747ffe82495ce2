"""Brute-force protection for logins, on the `limits` library (moving windows).

Two counts of login attempts:

- **Per account and client address** (`login_rate_limit`, 10 per 15 minutes): the hard
  limit. Every attempt takes a slot before the password is checked; once a pair has used
  them all, its next attempt gets 429 with Retry-After until its oldest attempt leaves the
  window (so the 11th within 15 minutes is the first refused). A correct password gives
  that pair's slots back. One client's attempts never use up another's.
- **Per account, all clients together** (`login_account_rate_limit`, 100 per 15 minutes,
  right or wrong: the owner's success says nothing of the strangers still guessing):
  a ceiling that slows, never locks. Past it the account is being guessed at from many
  places, and every client is paced on it: one attempt per `window / ceiling` seconds
  (9 by default), else 429 with a Retry-After of those few seconds. The pace is counted
  per client too, so strangers flooding the account from other addresses cannot use up
  the owner's turns: the owner, from an address with slots left, waits at most those
  seconds and gets in with the right password.

A third count, of password reset requests (`password_reset_rate_limit`, 5 per hour),
is kept per email address and client, known address or not, so that nobody can flood an
inbox with reset emails from one address or tell from the answers which addresses have
an account.

Why no lock for everyone: until the password is checked, a stranger and the owner are
told apart only by their address, and a per-account lock turns any stranger's ten wrong
guesses into the owner's lock-out (the outside probe's finding 11). So a guesser's total
stays bounded by its addresses times the hard limit, each address's guesses are spread
out once the account is flooded, and nobody is locked out by someone else, except by a
client sharing their address (one NAT, or a proxy that FORWARDED_ALLOW_IPS does not
trust, which makes everyone that proxy).
"""

import math
import time

from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from contoso.config import DEFAULT_PASSWORD_RESET_RATE_LIMIT
from contoso.errors import TooManyAttempts

# Namespaces of the counts' keys, so none can be read as another.
_PAIR, _ACCOUNT, _PACE = "login", "login-account", "login-pace"
_RESET = "password-reset"


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


def wait_in_words(seconds: int) -> str:
    """ "14 minutes" (rounded up) from a minute on, "45 seconds" below."""
    if seconds >= 60:
        minutes = math.ceil(seconds / 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


class LoginThrottle:
    def __init__(
        self,
        limit: str,
        account_limit: str,
        storage_uri: str,
        reset_limit: str = DEFAULT_PASSWORD_RESET_RATE_LIMIT,
    ) -> None:
        self._pair = parse(limit)
        self._account = parse(account_limit)
        self._reset = parse(reset_limit)
        # The ceiling's own average rate, per client, once the account is past it.
        pace = max(1, self._account.get_expiry() // self._account.amount)
        self._pace: RateLimitItem = RateLimitItemPerSecond(1, pace)
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
        check before the first was counted. Whether the account is past its ceiling is
        read just before, so a few concurrent attempts around it may go unpaced. Only
        attempts a pair admits count toward the ceiling: one address adds at most
        `login_rate_limit` to it.
        """
        flooded = not await self._limiter.test(self._account, _ACCOUNT, email)
        # A pair that has no slot left is told so, in minutes, below; and a turn is
        # taken before a slot, so waiting for a turn never costs one.
        if (
            flooded
            and await self._limiter.test(self._pair, _PAIR, email, client)
            and not await self._limiter.hit(self._pace, _PACE, email, client)
        ):
            wait = await self._wait(self._pace, _PACE, email, client)
            raise TooManyAttempts(
                "This account is getting many failed logins, so each login waits its "
                f"turn; try again in {wait_in_words(wait)}.",
                retry_after=wait,
            )
        if not await self._limiter.hit(self._pair, _PAIR, email, client):
            wait = await self._wait(self._pair, _PAIR, email, client)
            raise TooManyAttempts(
                f"Too many failed logins for this account; try again in {wait_in_words(wait)}.",
                retry_after=wait,
            )
        await self._limiter.hit(self._account, _ACCOUNT, email)

    async def reset_requested(self, email: str, client: str) -> None:
        """Take one of this address's password reset requests from this client, or
        TooManyAttempts: the same for an address with an account and one without."""
        if not await self._limiter.hit(self._reset, _RESET, email, client):
            wait = await self._wait(self._reset, _RESET, email, client)
            raise TooManyAttempts(
                "Too many password reset requests for this address; try again in "
                f"{wait_in_words(wait)}, and look for the email we sent meanwhile.",
                retry_after=wait,
            )

    async def _wait(self, item: RateLimitItem, *key: str) -> int:
        """Seconds until the oldest attempt under `key` leaves `item`'s window."""
        reset_at, _ = await self._limiter.get_window_stats(item, *key)
        return max(1, math.ceil(reset_at - time.time()))

    async def succeeded(self, email: str, client: str) -> None:
        """The password (or code) was right: this pair's attempts and turn are given back.
        The account's count stays: the owner's success says nothing of the others."""
        await self._limiter.clear(self._pair, _PAIR, email, client)
        await self._limiter.clear(self._pace, _PACE, email, client)

    async def reset(self) -> None:
        """Forget every count (between tests; or by an operator after an incident)."""
        await self.storage.reset()
