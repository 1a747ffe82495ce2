"""Annotated dependencies: the password hasher, the token codec, the current user."""

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from contoso.auth.security import Security
from contoso.auth.service import ensure_employer, user_for_token
from contoso.auth.tokens import TokenClaims
from contoso.database import Driver, SessionDep
from contoso.errors import Unauthorized
from contoso.models import User


async def get_security(request: Request) -> Security:
    # async: FastAPI would run a plain `def` dependency in a worker thread per request.
    security: Security = request.app.state.security
    return security


SecurityDep = Annotated[Security, Depends(get_security)]

# auto_error=False: a missing token gets our own 401 message, not a bare "Not authenticated".
bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


async def get_token_claims(
    security: SecurityDep, token: Annotated[str | None, Depends(bearer)]
) -> TokenClaims:
    """The bearer token's claims, checked for signature and expiry (not yet against
    the database: `get_current_user` does that)."""
    if not token:
        raise Unauthorized("Log in first: send 'Authorization: Bearer <token>'.")
    return security.tokens.read(token)


BearerClaims = Annotated[TokenClaims, Depends(get_token_claims)]


async def get_current_user(session: SessionDep, claims: BearerClaims) -> User:
    return await user_for_token(await Driver.of(session), claims)


CurrentUser = Annotated[User, Depends(get_current_user)]


def employers_only(doing: str) -> Any:
    """A route dependency that refuses anyone but an employer (403, "Only employers can
    `doing`."). Dependencies run before the body is validated, so an employee learns
    they may not do this rather than what is wrong with a body they cannot send. The
    services keep their own check: the console calls them too. The user is the one
    `CurrentUser` loads for the request (FastAPI caches it): no second query."""

    async def employer(user: CurrentUser) -> None:
        ensure_employer(user, doing)

    return Depends(employer)


def client_address(request: Request) -> str:
    """Who is asking, for throttling: the peer address (uvicorn applies trusted proxy headers)."""
    return request.client.host if request.client else "unknown"
