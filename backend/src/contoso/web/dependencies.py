"""Who is on the page: dependencies that answer with a redirect instead of returning."""

import re
from typing import Annotated
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse

from contoso.auth import service as auth
from contoso.auth.browser import USER_ID, session_user
from contoso.database import SessionDep
from contoso.models import User
from contoso.sessions import end_session
from contoso.tickets import service as tickets
from contoso.tickets.dependencies import TicketId
from contoso.tickets.schemas import TicketRead
from contoso.web.rendering import NOTICE


class Redirect(Exception):
    """Send the browser elsewhere (303), with a one-off notice for the next page."""

    def __init__(self, url: str, notice: str | None = None) -> None:
        super().__init__(url)
        self.url = url
        self.notice = notice


# The query parameter and form field that carry, through the login form, the page a
# logged-out visitor asked for (an email's link to a ticket, say).
NEXT = "next"
# Longer is no page of ours.
MAX_NEXT = 2000


def home_of(user: User) -> str:
    return "/admin/" if user.is_employer else "/tickets"


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
    a page of this site under their home (an employee's pages, or the console), else
    their home. Another site's address is never followed: no scheme, no host, no "//"
    or backslash, and no percent-encoded dot, slash or backslash in the path."""
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
    base = home.rstrip("/")
    if path != base and not path.startswith(f"{base}/"):
        return home
    return urlunsplit(("", "", path, parts.query, ""))


def login_address(request: Request, login: str = "/") -> str:
    """The login page `login`, asked to come back to this page once logged in when it
    is a page to come back to (a GET: a form's POST would arrive empty)."""
    if request.method != "GET":
        return login
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{login}?{urlencode({NEXT: here})}"


async def get_employee(request: Request, session: SessionDep) -> User:
    """The logged-in employee; anyone else is sent where they belong."""
    user = await session_user(request, session)
    if user is not None:
        if user.is_employer:
            raise Redirect(home_of(user))
        return user
    user_id = request.session.get(USER_ID)
    end_session(request)
    if not isinstance(user_id, int):
        raise Redirect(login_address(request))
    account = await session.get(User, user_id)
    if account is not None and account.suspended:
        raise Redirect("/", auth.SUSPENDED)
    raise Redirect(login_address(request), "Please log in again.")


CurrentEmployee = Annotated[User, Depends(get_employee)]


async def get_own_ticket(
    ticket_id: TicketId, employee: CurrentEmployee, session: SessionDep
) -> TicketRead:
    """The employee's own ticket; NotFound (a 404 page) for anyone else's."""
    return await tickets.get_ticket(session, employee, ticket_id)


OwnTicket = Annotated[TicketRead, Depends(get_own_ticket)]


def install_redirects(app: FastAPI) -> None:
    @app.exception_handler(Redirect)
    async def _redirect(request: Request, exc: Redirect) -> RedirectResponse:
        if exc.notice:
            request.session[NOTICE] = exc.notice
        # 303: after a POST the browser follows with a GET.
        return RedirectResponse(exc.url, status_code=303)
