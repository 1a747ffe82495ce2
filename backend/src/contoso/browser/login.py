"""Logging a user into a browser session, and back to the page they asked for: shared
by the console and the employee pages."""

import re
from urllib.parse import urlencode, urlsplit, urlunsplit

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection, Request

from contoso.auth.security import Security
from contoso.auth.sso import SingleSignOn
from contoso.browser.csrf import csrf_token, renew_csrf_cookie
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


# The query parameter and form field that carry, through the login form, the page a
# logged-out visitor asked for (an email's link to a ticket, say).
NEXT = "next"
# Longer is no page of ours.
MAX_NEXT = 2000


def home_of(user: User) -> str:
    return "/admin/" if user.is_employer else "/tickets"


# The areas a user may be sent back to after logging in: their home, and for employers
# the pages where they file their own expenses too.
def _areas(user: User) -> tuple[str, ...]:
    return ("/admin", "/tickets") if user.is_employer else ("/tickets",)


# A browser decodes these in a path into dots and separators (the URL standard reads
# "%2e%2e" as ".."), so a path holding one is not checked as the browser will walk it.
_ENCODED_DOT_OR_SLASH = re.compile("%(?:2e|2f|5c)", re.IGNORECASE)


def remove_dot_segments(path: str) -> str:
    """The absolute `path` with its "." and ".." segments resolved (RFC 3986, 5.2.4),
    as a browser resolves them before asking for the page."""
    segments = path.split("/")[1:]
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    # "/a/b/.." is "/a/": a last dot segment leaves the directory it names.
    trailing = "/" if kept and segments[-1] in (".", "..") else ""
    return "/" + "/".join(kept) + trailing


def after_login(user: User, wanted: object) -> str:
    """Where `user` goes once logged in: `wanted`, its dot segments resolved, when it is
    a page of this site in their areas (an employee's pages; the console and their own
    pages for an employer), else their home. Another site's address is never followed:
    no scheme, no host, no "//" or backslash, and no percent-encoded dot, slash or
    backslash in the path."""
    home = home_of(user)
    if not isinstance(wanted, str) or not wanted.startswith("/") or len(wanted) > MAX_NEXT:
        return home
    if wanted.startswith("//") or "\\" in wanted or not wanted.isprintable():
        return home
    parts = urlsplit(wanted)
    if parts.scheme or parts.netloc or parts.fragment:
        return home
    if _ENCODED_DOT_OR_SLASH.search(parts.path):
        return home
    # The page the browser will ask for, checked and followed as such.
    path = remove_dot_segments(parts.path)
    if not any(path == base or path.startswith(f"{base}/") for base in _areas(user)):
        return home
    return urlunsplit(("", "", path, parts.query, ""))


def login_address(request: Request, login: str = "/") -> str:
    """The login page `login`, asked to come back to this page once logged in when it
    is a page to come back to (a GET: a form's POST would arrive empty)."""
    if request.method != "GET":
        return login
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{login}?{urlencode({NEXT: here})}"


def single_sign_on(request: HTTPConnection) -> SingleSignOn | None:
    """The login pages' "Sign in with …" button, when single sign-on is set up."""
    security: Security = request.app.state.security
    return security.sso


def sso_only(request: HTTPConnection) -> bool:
    """Whether the login pages hide password login (SSO_ONLY): the console keeps it
    folded away for the operator's employers."""
    security: Security = request.app.state.security
    return security.sso_only
