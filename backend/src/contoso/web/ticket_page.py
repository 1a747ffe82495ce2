"""A ticket's own page: what the list shows of it, its comments, resubmitting it once
sent back for changes, and its receipts' files."""

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
from contoso.web.dependencies import CurrentEmployee, OwnTicket
from contoso.web.display import ticket_summary
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
    request: Request, session: SessionDep, user: CurrentEmployee, ticket: OwnTicket
) -> Response:
    """One ticket: what the list shows of it, and its comments."""
    return await _ticket_page(request, session, user, ticket)


@router.post("/tickets/{ticket_id}/comments")
async def add_comment(
    request: Request, session: SessionDep, user: CurrentEmployee, ticket: OwnTicket
) -> Response:
    form = await read_form(request)
    values = form_values(form, COMMENT_BODY)
    data, errors = parse(CommentCreate, values)
    if data is None:
        context = {"values": values, "errors": errors}
        return await _ticket_page(request, session, user, ticket, context, 400)
    await comments.add_comment(session, user, ticket.id, data)
    return RedirectResponse(f"/tickets/{ticket.id}#comments", status_code=303)


@router.post("/tickets/{ticket_id}/resubmit")
async def resubmit_ticket(
    request: Request, session: SessionDep, user: CurrentEmployee, ticket: OwnTicket
) -> Response:
    """Send a ticket that was sent back for changes in again, for a decision."""
    try:
        resubmitted = await tickets.resubmit_ticket(session, user, ticket.id)
    except Conflict as exc:  # not sent back (any more): resubmitted already, or decided
        return await _ticket_page(
            request, session, user, ticket, {"error": exc.message}, exc.status_code
        )
    spent = ticket_summary(resubmitted, company_currency(request))
    request.session[NOTICE] = (
        f"Ticket #{ticket.id} resubmitted: {spent} for {resubmitted.description} waits for "
        "a decision again."
    )
    return RedirectResponse("/tickets", status_code=303)


@router.get("/tickets/{ticket_id}/receipts/{receipt_id}")
async def view_receipt(
    session: SessionDep,
    storage: ReceiptStorageDep,
    user: CurrentEmployee,
    ticket_id: TicketId,
    receipt_id: ReceiptId,
) -> Response:
    """The receipt's file, for its ticket's owner only (NotFound: a 404 page otherwise)."""
    receipt = await receipts.get_receipt(session, user, ticket_id, receipt_id)
    return receipt_response(storage, receipt)
