"""Annotated dependencies: the password hasher, the token codec, the current user."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from contoso.auth.hashing import PasswordHasher
from contoso.auth.service import user_for_token
from contoso.auth.tokens import TokenCodec
from contoso.config import Settings
from contoso.database import SessionDep
from contoso.errors import Unauthorized
from contoso.models import User


@dataclass(frozen=True)
class Security:
    hasher: PasswordHasher
    tokens: TokenCodec

    @classmethod
    def from_settings(cls, settings: Settings) -> "Security":
        if settings.secret_key is None:
            raise RuntimeError("settings need a secret key (Settings.with_secret)")
        return cls(
            hasher=PasswordHasher(settings.password_hash_rounds),
            tokens=TokenCodec(
                settings.secret_key.get_secret_value(),
                timedelta(minutes=settings.access_token_minutes),
            ),
        )


def get_security(request: Request) -> Security:
    return request.app.state.security


SecurityDep = Annotated[Security, Depends(get_security)]

# auto_error=False: a missing token gets our own 401 message, not a bare "Not authenticated".
bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


async def get_current_user(
    session: SessionDep,
    security: SecurityDep,
    token: Annotated[str | None, Depends(bearer)],
) -> User:
    if not token:
        raise Unauthorized("Log in first: send 'Authorization: Bearer <token>'.")
    return await user_for_token(session, security.tokens, token)


CurrentUser = Annotated[User, Depends(get_current_user)]
