"""Signed bearer tokens (JWT, HS256)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from contoso.errors import Unauthorized
from contoso.models import User
from contoso.validation import MAX_RECORD_ID

ALGORITHM = "HS256"
INVALID_TOKEN = (
    "Your session has expired or is invalid; please log in again."  # noqa: S105 (a message)
)


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: whose it is, and the token version it was issued at."""

    user_id: int
    version: int


class TokenCodec:
    def __init__(self, secret: str, lifetime: timedelta) -> None:
        self._secret = secret
        self._lifetime = lifetime

    def issue(self, user: User) -> str:
        now = datetime.now(UTC)
        claims = {
            "sub": str(user.id),
            "ver": user.token_version,
            "iat": now,
            "exp": now + self._lifetime,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def read(self, token: str) -> TokenClaims:
        """The token's claims; Unauthorized for anything not ours, expired or malformed."""
        try:
            decoded = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "sub", "ver"]},
            )
            claims = TokenClaims(int(decoded["sub"]), int(decoded["ver"]))
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise Unauthorized(INVALID_TOKEN) from exc
        # Only we sign tokens, but a bigint overflow must never reach the database.
        if not (1 <= claims.user_id <= MAX_RECORD_ID and 0 <= claims.version <= MAX_RECORD_ID):
            raise Unauthorized(INVALID_TOKEN)
        return claims
