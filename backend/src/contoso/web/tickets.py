"""My tickets: the list of a user's own tickets (an employer's own expenses too), and filing
one with its receipts."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from contoso.browser.forms import MAX_FORM_FILES, UNREADABLE_FORM, parse, read_form
from contoso.categories.service import list_categories
from contoso.database import SessionDep
from contoso.errors import Conflict, InvalidField
from contoso.models import User
from contoso.payments.service import reimbursement
from contoso.receipts import service as receipts
from contoso.receipts.dependencies import ReceiptCleanerDep, ReceiptStorageDep
from contoso.receipts.files import CleanReceipt
from contoso.receipts.storage import ReceiptStorage
from contoso.tickets import service as tickets
from contoso.tickets.queries import TicketFilters
from contoso.tickets.schemas import TicketCreate, TicketRead
from contoso.web.dependencies import CurrentFiler
from contoso.web.display import (
    amount_example,
    category_options,
    default_category_id,
    owed_summary,
    paid_summary,
    ticket_summary,
)
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
    field_error,
    receipts_help,
    receipts_in_words,
    receipts_over_limit,
    refused,
    ticket_data,
    ticket_values,
)

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

PAGE_SIZE = 20
# A fresh one in every filing form: a double-clicked form files once (file_ticket_once).
IDEMPOTENCY_KEY = "idempotency_key"


async def _tickets_page(
    request: Request,
    session: SessionDep,
    user: User,
    page: int,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    # Their own tickets, an employer's included (they see everyone's in the console).
    listing = await tickets.list_tickets(
        session,
        user,
        filters=TicketFilters(owner_id=user.id),
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    categories = await list_categories(session, user)
    zone = request.app.state.settings.zone
    money = await reimbursement(session, user, zone)
    company = company_currency(request)
    return render(
        request,
        "tickets.html",
        {
            "user": user,
            "tickets": listing.items,
            "total": listing.total,
            "page": page,
            "pages": max(1, -(-listing.total // PAGE_SIZE)),
            "zone": zone,
            "owed": owed_summary(money.owed),
            "paid_this_year": paid_summary(money.paid_this_year),
            "values": {
                "currency": company,
                "category_id": str(default_category_id(categories) or ""),
            },
            "form_fields": FORM_FIELDS,
            "errors": {},
            "company": company,
            "currencies": await currency_choices(session, company),
            "currency_help": currency_help(company),
            "amount_help": amount_help(company),
            "amount_example": amount_example(company),
            "categories": category_options(categories, company),
            "policies": categories,
            "receipts_help": receipts_help(request),
            # New on every render, also after a refusal: nothing was filed with the last.
            "idempotency_key": str(uuid.uuid4()),
        }
        | (context or {}),
        status_code,
    )


@router.get("/tickets")
async def my_tickets(
    request: Request,
    session: SessionDep,
    user: CurrentFiler,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    return await _tickets_page(request, session, user, page)


def _idempotency_key(form: FormData) -> str | None:
    """The filing form's key; None when a hand-made post sends none (it files as usual)."""
    sent = form.get(IDEMPOTENCY_KEY)
    if not isinstance(sent, str) or not sent:
        return None
    try:
        return str(uuid.UUID(sent))
    except ValueError:  # the page sends UUIDs only
        raise HTTPException(400, UNREADABLE_FORM) from None


def _filed(ticket: TicketRead, receipt_count: int, company: str) -> str:
    attached = f" with {receipts_in_words(receipt_count)}" if receipt_count else ""
    spent = ticket_summary(ticket, company)
    return f"Ticket #{ticket.id} filed{attached}: {spent} for {ticket.description}."


async def _file_with_receipts(
    session: AsyncSession,
    storage: ReceiptStorage,
    user: User,
    data: TicketCreate,
    key: str | None,
    cleaned: list[CleanReceipt],
) -> tuple[TicketRead, int]:
    """File the ticket (once per `key`) and attach the receipts; the ticket and how
    many receipts it has. A replay is the same form sent twice: the first attached them."""
    if key is None:
        ticket = await tickets.file_ticket(session, user, data)
    else:
        filing = await tickets.file_ticket_once(session, user, data, key)
        if filing.replayed:
            return filing.ticket, len(filing.ticket.receipts)
        ticket = filing.ticket
    for receipt in cleaned:
        await receipts.add_receipt(session, storage, user, ticket.id, receipt)
    return ticket, len(cleaned)


@router.post("/tickets")
async def file_ticket(
    request: Request,
    session: SessionDep,
    storage: ReceiptStorageDep,
    cleaner: ReceiptCleanerDep,
    user: CurrentFiler,
) -> Response:
    """File a ticket and its receipts in one transaction: a refused receipt files nothing."""
    form = await read_form(request, max_files=MAX_FORM_FILES)
    try:
        values = ticket_values(form)
        data, errors = parse(TicketCreate, ticket_data(values))
        errors |= receipts_over_limit(form)
        key = _idempotency_key(form)
        context: dict[str, Any] = {"values": values}
        if data is None or errors:
            context["errors"] = refused(form, errors)
            return await _tickets_page(request, session, user, 1, context, 400)
        try:
            # A savepoint: a refusal after the filing undoes it (and its key), and the
            # form is shown again from this same transaction.
            async with (
                cleaned_receipts(session, cleaner, user, form) as cleaned,
                session.begin_nested(),
            ):
                ticket, receipt_count = await _file_with_receipts(
                    session, storage, user, data, key, cleaned
                )
        except InvalidField as exc:
            context["errors"] = refused(form, field_error(exc))
            return await _tickets_page(request, session, user, 1, context, exc.status_code)
        except FILE_REFUSALS as exc:
            context["errors"] = {RECEIPTS: f"{exc.message} {FILES_DROPPED}"}
            return await _tickets_page(request, session, user, 1, context, exc.status_code)
        except Conflict as exc:
            # Only the key conflicts here: a form that filed, sent again with other
            # values (kept by the back button). This render's key is a fresh one.
            context["error"] = (
                "This form was used to file a ticket already (see your tickets); "
                "file again to file another."
            )
            context["errors"] = refused(form, {})
            return await _tickets_page(request, session, user, 1, context, exc.status_code)
    finally:
        await form.close()
    request.session[NOTICE] = _filed(ticket, receipt_count, company_currency(request))
    return RedirectResponse("/tickets", status_code=303)
