"""Editing a ticket and its receipts: the edit page, saving it with receipts added, and
removing a receipt."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from contoso.browser.forms import MAX_FORM_FILES, parse, read_form
from contoso.categories.service import list_categories
from contoso.database import SessionDep
from contoso.errors import Conflict, InvalidField
from contoso.models import TicketStatus, User
from contoso.receipts import service as receipts
from contoso.receipts.dependencies import ReceiptCleanerDep, ReceiptId, ReceiptStorageDep
from contoso.receipts.service import MAX_RECEIPTS_PER_TICKET
from contoso.tickets import service as tickets
from contoso.tickets.schemas import TicketRead, TicketUpdate
from contoso.web.dependencies import CurrentFiler, OwnTicket
from contoso.web.display import category_options, ticket_summary
from contoso.web.rendering import NOTICE, render
from contoso.web.ticket_forms import (
    FILE_REFUSALS,
    FILES_DROPPED,
    FORM_FIELDS,
    RECEIPTS,
    amount_help,
    cleaned_receipts,
    company_currency,
    currency_choices,
    currency_help,
    edit_values,
    field_error,
    receipts_help,
    receipts_in_words,
    receipts_over_limit,
    refused,
    ticket_data,
    ticket_values,
)

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


async def _edit_page(
    request: Request,
    session: SessionDep,
    user: User,
    ticket: TicketRead,
    values: dict[str, str],
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    categories = await list_categories(session, user)
    company = company_currency(request)
    return render(
        request,
        "edit.html",
        {
            "user": user,
            "ticket": ticket,
            "form_fields": FORM_FIELDS,
            "values": values,
            "errors": {},
            "company": company,
            "currencies": await currency_choices(session, company, ticket.currency),
            "currency_help": currency_help(company),
            "amount_help": amount_help(company),
            "categories": category_options(categories, company, ticket.category),
            "policies": categories,
            "receipts_help": receipts_help(request),
            "max_receipts": MAX_RECEIPTS_PER_TICKET,
        }
        | (context or {}),
        status_code,
    )


@router.get("/tickets/{ticket_id}/edit")
async def edit_page(
    request: Request, session: SessionDep, user: CurrentFiler, ticket: OwnTicket
) -> Response:
    return await _edit_page(request, session, user, ticket, edit_values(ticket))


@router.post("/tickets/{ticket_id}/edit")
async def edit_ticket(
    request: Request,
    session: SessionDep,
    storage: ReceiptStorageDep,
    cleaner: ReceiptCleanerDep,
    user: CurrentFiler,
    ticket: OwnTicket,
) -> Response:
    """Save the edit and add the chosen receipts in one transaction: a refused receipt
    saves nothing."""
    form = await read_form(request, max_files=MAX_FORM_FILES)
    context: dict[str, Any]
    try:
        values = ticket_values(form)
        data, errors = parse(TicketUpdate, ticket_data(values))
        errors |= receipts_over_limit(form, len(ticket.receipts))
        if data is None or errors:
            context = {"errors": refused(form, errors)}
            return await _edit_page(request, session, user, ticket, values, context, 400)
        edited = False
        try:
            async with (
                cleaned_receipts(session, cleaner, user, form) as cleaned,
                session.begin_nested(),
            ):
                saved = await tickets.update_ticket(session, user, ticket.id, data)
                edited = True
                for receipt in cleaned:
                    await receipts.add_receipt(session, storage, user, ticket.id, receipt)
        except InvalidField as exc:
            context = {"errors": refused(form, field_error(exc))}
            return await _edit_page(request, session, user, ticket, values, context, 422)
        except (*FILE_REFUSALS, Conflict) as exc:
            # A Conflict before the edit: the ticket was decided; after it: full of receipts.
            if isinstance(exc, Conflict) and not edited:
                context = {"error": exc.message}
            else:
                context = {"errors": {RECEIPTS: f"{exc.message} {FILES_DROPPED}"}}
            return await _edit_page(
                request, session, user, ticket, values, context, exc.status_code
            )
        added = f" {receipts_in_words(len(cleaned)).capitalize()} added." if cleaned else ""
    finally:
        await form.close()
    spent = ticket_summary(saved, company_currency(request))
    # Saving does not send it in again: resubmitting is a step of its own.
    waiting = (
        " It is still sent back: resubmit it when it is ready."
        if saved.status is TicketStatus.CHANGES_REQUESTED
        else ""
    )
    request.session[NOTICE] = f"Ticket #{ticket.id} saved: {spent}.{added}{waiting}"
    return RedirectResponse("/tickets", status_code=303)


@router.post("/tickets/{ticket_id}/receipts/{receipt_id}/delete")
async def delete_receipt(
    request: Request,
    session: SessionDep,
    storage: ReceiptStorageDep,
    user: CurrentFiler,
    ticket: OwnTicket,
    receipt_id: ReceiptId,
) -> Response:
    try:
        await receipts.remove_receipt(session, storage, user, ticket.id, receipt_id)
    except Conflict as exc:  # decided meanwhile; refused before anything changed
        context = {"error": exc.message}
        return await _edit_page(
            request, session, user, ticket, edit_values(ticket), context, exc.status_code
        )
    # Named as the page listed it; one added since the page was read goes by its number.
    name = next(
        (f"“{receipt.filename}”" for receipt in ticket.receipts if receipt.id == receipt_id),
        f"#{receipt_id}",
    )
    request.session[NOTICE] = f"Receipt {name} removed from ticket #{ticket.id}."
    return RedirectResponse(f"/tickets/{ticket.id}/edit", status_code=303)
