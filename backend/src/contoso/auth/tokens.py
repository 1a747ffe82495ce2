"""Signed bearer tokens (JWT, HS256)."""

from datetime import UTC, datetime, timedelta

import jwt

from contoso.errors import Unauthorized
from contoso.models import User

ALGORITHM = "HS256"
INVALID_TOKEN = (
    "Your session has expired or is invalid; please log in again."  # noqa: S105 (a message)
)


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

    def read(self, token: str) -> tuple[int, int]:
        """Return (user id, token version); Unauthorized for anything not ours and current."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "sub", "ver"]},
            )
            return int(claims["sub"]), int(claims["ver"])
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise Unauthorized(INVALID_TOKEN) from exc
