"""Logging a user into a browser session: shared by the console and the employee pages."""

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from contoso.middleware import csrf_token, renew_csrf_cookie
from contoso.models import User
from contoso.sessions import end_session, rotate_session

USER_ID = "user_id"
TOKEN_VERSION = "token_version"  # noqa: S105 (a session key name)


async def start_user_session(request: Request, user: User) -> None:
    """Log `user` into this browser session under a new session id (no fixation) and
    a new CSRF token; the login page's (its cookie's) is renewed too."""
    await rotate_session(request)
    request.session[USER_ID] = user.id
    # Suspension bumps the version: the session dies with it, like API tokens.
    request.session[TOKEN_VERSION] = user.token_version
    csrf_token(request)
    renew_csrf_cookie(request)


def end_user_session(request: Request) -> None:
    """Log out: the session ends (server-side too) and the CSRF cookie is renewed."""
    end_session(request)
    renew_csrf_cookie(request)


async def session_user(request: Request, session: AsyncSession) -> User | None:
    """The active user logged into this browser session, re-read from the database."""
    user_id = request.session.get(USER_ID)
    if not isinstance(user_id, int):
        return None
    user = await session.get(User, user_id)
    if user is None or user.suspended or user.token_version != request.session.get(TOKEN_VERSION):
        return None
    return user
