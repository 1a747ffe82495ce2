"""A ticket's own page: what the list shows of it, its comments, what its owner may do
with it (resubmitting it once sent back for changes: every owner's transition of the
workflow, `web.display.OWNER_ACTIONS`), and its receipts' files."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from contoso.browser.forms import form_values, parse, read_form
from contoso.categories.service import list_categories
from contoso.comments import service as comments
from contoso.comments.schemas import CommentCreate
from contoso.database import SessionDep
from contoso.errors import Conflict
from contoso.models import User
from contoso.receipts import service as receipts
from contoso.receipts.dependencies import ReceiptId, ReceiptStorageDep
from contoso.receipts.download import receipt_response
from contoso.tickets import service as tickets
from contoso.tickets.dependencies import TicketId
from contoso.tickets.schemas import TicketRead
from contoso.tickets.workflow import Transition
from contoso.web.dependencies import CurrentFiler, OwnTicket
from contoso.web.display import OWNER_ACTIONS, ticket_summary
from contoso.web.rendering import NOTICE, render
from contoso.web.ticket_forms import company_currency

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

# The ticket page's comment field.
COMMENT_BODY = "body"


async def _ticket_page(
    request: Request,
    session: SessionDep,
    user: User,
    ticket: TicketRead,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "ticket.html",
        {
            "user": user,
            "ticket": ticket,
            "comments": await comments.list_comments(session, user, ticket.id),
            "company": company_currency(request),
            "zone": request.app.state.settings.zone,
            "policies": await list_categories(session, user),
            "values": {},
            "errors": {},
        }
        | (context or {}),
        status_code,
    )


@router.get("/tickets/{ticket_id}")
async def ticket_page(
    request: Request, session: SessionDep, user: CurrentFiler, ticket: OwnTicket
) -> Response:
    """One ticket: what the list shows of it, and its comments."""
    return await _ticket_page(request, session, user, ticket)


@router.post("/tickets/{ticket_id}/comments")
async def add_comment(
    request: Request, session: SessionDep, user: CurrentFiler, ticket: OwnTicket
) -> Response:
    form = await read_form(request)
    values = form_values(form, COMMENT_BODY)
    data, errors = parse(CommentCreate, values)
    if data is None:
        context = {"values": values, "errors": errors}
        return await _ticket_page(request, session, user, ticket, context, 400)
    await comments.add_comment(session, user, ticket.id, data)
    return RedirectResponse(f"/tickets/{ticket.id}#comments", status_code=303)


def _acting(transition: Transition) -> Callable[..., Awaitable[Response]]:
    """The page route that makes the owner's `transition` on their ticket (resubmitting
    it), then says so on their list."""

    async def act(
        request: Request, session: SessionDep, user: CurrentFiler, ticket: OwnTicket
    ) -> Response:
        try:
            done = await tickets.act_on_ticket(session, user, transition, ticket.id)
        except Conflict as exc:  # its status moved on meanwhile (resubmitted already)
            return await _ticket_page(
                request, session, user, ticket, {"error": exc.message}, exc.status_code
            )
        spent = ticket_summary(done, company_currency(request))
        notice = transition.notice or f"Ticket #{{id}} {transition.done.lower()}."
        request.session[NOTICE] = notice.format(
            id=ticket.id, spent=spent, description=done.description
        )
        return RedirectResponse("/tickets", status_code=303)

    return act


# POST /tickets/{id}/<transition>: one route per owner's action (`OWNER_ACTIONS`).
for _transition in OWNER_ACTIONS:
    router.post(f"/tickets/{{ticket_id}}/{_transition.slug}", name=f"{_transition.name}_ticket")(
        _acting(_transition)
    )


@router.get("/tickets/{ticket_id}/receipts/{receipt_id}")
async def view_receipt(
    session: SessionDep,
    storage: ReceiptStorageDep,
    user: CurrentFiler,
    ticket_id: TicketId,
    receipt_id: ReceiptId,
) -> Response:
    """The receipt's file, for its ticket's owner only (NotFound: a 404 page otherwise)."""
    receipt = await receipts.get_receipt(session, user, ticket_id, receipt_id)
    return receipt_response(storage, receipt)
