"""Who is on the page: dependencies that answer with a redirect instead of returning."""

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse

from contoso.auth import service as auth
from contoso.browser.login import USER_ID, login_address, session_user
from contoso.database import SessionDep
from contoso.models import User
from contoso.sessions import end_session
from contoso.tickets import service as tickets
from contoso.tickets.dependencies import TicketId
from contoso.tickets.executor import not_found
from contoso.tickets.schemas import TicketRead
from contoso.web.rendering import NOTICE


class Redirect(Exception):
    """Send the browser elsewhere (303), with a one-off notice for the next page."""

    def __init__(self, url: str, notice: str | None = None) -> None:
        super().__init__(url)
        self.url = url
        self.notice = notice


async def get_filer(request: Request, session: SessionDep) -> User:
    """The logged-in user, on the pages where they file their own expenses (employees,
    and employers too); anyone else is sent to log in."""
    user = await session_user(request, session)
    if user is not None:
        return user
    user_id = request.session.get(USER_ID)
    end_session(request)
    if not isinstance(user_id, int):
        raise Redirect(login_address(request))
    account = await session.get(User, user_id)
    if account is not None and account.suspended:
        raise Redirect("/", auth.SUSPENDED)
    raise Redirect(login_address(request), "Please log in again.")


CurrentFiler = Annotated[User, Depends(get_filer)]


async def get_own_ticket(
    ticket_id: TicketId, filer: CurrentFiler, session: SessionDep
) -> TicketRead:
    """The user's own ticket; NotFound (a 404 page) for anyone else's, an employer's
    view of others' tickets being the console."""
    ticket = await tickets.get_ticket(session, filer, ticket_id)
    if ticket.owner.id != filer.id:
        raise not_found(ticket_id)
    return ticket


OwnTicket = Annotated[TicketRead, Depends(get_own_ticket)]


def install_redirects(app: FastAPI) -> None:
    @app.exception_handler(Redirect)
    async def _redirect(request: Request, exc: Redirect) -> RedirectResponse:
        if exc.notice:
            request.session[NOTICE] = exc.notice
        # 303: after a POST the browser follows with a GET.
        return RedirectResponse(exc.url, status_code=303)
