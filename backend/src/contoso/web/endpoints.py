"""The employee pages: Login / Register, My tickets (filing with receipts, the email
setting), a ticket's page (its comments, resubmitting it once sent back for changes),
and editing a ticket and its receipts. Server-rendered, no JavaScript."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from contoso.auth import service as auth
from contoso.auth.browser import end_user_session, session_user, start_user_session
from contoso.auth.dependencies import SecurityDep, client_address
from contoso.auth.schemas import LoginRequest, NewPassword, RegisterRequest
from contoso.categories.service import list_categories
from contoso.comments import service as comments
from contoso.comments.schemas import CommentCreate
from contoso.currencies.service import currencies_with_rates
from contoso.database import SessionDep, released
from contoso.errors import (
    Conflict,
    ContosoError,
    Forbidden,
    InvalidField,
    TooLarge,
    TooManyAttempts,
    TooManyUploads,
    UnprocessableFile,
    UnsupportedMediaType,
)
from contoso.formatting import plain_money
from contoso.models import Role, TicketStatus, User
from contoso.payments.service import reimbursement
from contoso.receipts import service as receipts
from contoso.receipts.decoding import ReceiptCleaner
from contoso.receipts.dependencies import ReceiptCleanerDep, ReceiptStorageDep
from contoso.receipts.download import receipt_response
from contoso.receipts.endpoints import ReceiptId
from contoso.receipts.files import ACCEPTED, CleanReceipt
from contoso.receipts.service import MAX_RECEIPTS_PER_TICKET
from contoso.receipts.storage import ReceiptStorage
from contoso.tickets import service as tickets
from contoso.tickets.dependencies import TicketId
from contoso.tickets.schemas import TicketCreate, TicketRead, TicketUpdate
from contoso.web.dependencies import (
    NEXT,
    CurrentEmployee,
    OwnTicket,
    Redirect,
    after_login,
)
from contoso.web.display import (
    OptionGroups,
    amount_example,
    category_options,
    currency_groups,
    default_category_id,
    owed_summary,
    paid_summary,
    size_limit,
    ticket_summary,
)
from contoso.web.forms import (
    EMAIL_NOTIFICATIONS,
    MAX_FORM_FILES,
    UNREADABLE_FORM,
    field_errors,
    form_values,
    parse,
    read_form,
    split_lines,
)
from contoso.web.rendering import NOTICE, render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

PAGE_SIZE = 20
REGISTERING = "registering"
TICKET_FIELDS = ("spent_on", "currency", "amount", "description", "links", "category_id")
RECEIPTS = "receipts"
# A fresh one in every filing form: a double-clicked form files once (file_ticket_once).
IDEMPOTENCY_KEY = "idempotency_key"
# A browser cannot be told to pick the same files again: say so beside the refusal.
FILES_DROPPED = "Nothing was saved; choose your receipt files again."
# Why a form's receipt files were refused, each said beside the file input.
_FILE_REFUSALS = (TooLarge, UnsupportedMediaType, UnprocessableFile, TooManyUploads)
# The ticket page's comment field.
COMMENT_BODY = "body"
_new_password = TypeAdapter(NewPassword)


def _go_home(user: User, wanted: object = None) -> RedirectResponse:
    """To the page asked for before logging in (`wanted`), if it is one, else home."""
    # 303: after a POST the browser follows with a GET.
    return RedirectResponse(after_login(user, wanted), status_code=303)


@router.get("/")
async def login_page(request: Request, session: SessionDep) -> Response:
    wanted = request.query_params.get(NEXT)
    user = await session_user(request, session)
    if user is not None:
        return _go_home(user, wanted)
    return render(request, "login.html", {"email": "", NEXT: wanted})


@router.post("/")
async def login_or_register(
    request: Request, session: SessionDep, security: SecurityDep
) -> Response:
    """One button: log in an existing user, or start registering a new email."""
    form = await read_form(request)
    values = form_values(form, "email", "password")
    # The page to come back to, which the form keeps when it comes back.
    wanted = str(form.get(NEXT, ""))
    again: dict[str, Any] = {NEXT: wanted}
    credentials, errors = parse(LoginRequest, values)
    if credentials is None:
        context = again | {"email": values["email"], "errors": errors}
        return render(request, "login.html", context, 400)
    try:
        user = await auth.sign_in(
            session, security, credentials.email, credentials.password, client_address(request)
        )
    except ContosoError as exc:
        # The form again, with the error's own status and headers (429 keeps Retry-After).
        context = again | {"email": credentials.email, "error": exc.message}
        return render(request, "login.html", context, exc.status_code, exc.response_headers())
    if user is not None:
        await start_user_session(request, user)
        return _go_home(user, wanted)
    try:
        _new_password.validate_python(credentials.password)
    except ValidationError as exc:
        errors = {"password": field_errors(exc).get("form", "Choose a longer password")}
        context = again | {"email": credentials.email, "errors": errors}
        return render(request, "login.html", context, 400)
    # A new email: remember it and a hash of the password (never the password
    # itself) for the second step, which asks for the password again.
    request.session[REGISTERING] = {
        "email": credentials.email,
        "password_hash": await security.hasher.hash(credentials.password),
    }
    return render(request, "register.html", {"email": credentials.email, "values": {}})


@router.post("/register")
async def register(request: Request, session: SessionDep, security: SecurityDep) -> Response:
    pending = request.session.get(REGISTERING)
    if not isinstance(pending, dict):
        raise Redirect("/", "Start with your email and a password.")
    form = await read_form(request)
    values = form_values(form, "username", "role", "password", "invitation_code")
    context: dict[str, Any] = {"email": pending["email"], "values": values}
    check = await security.hasher.verify(values["password"], pending["password_hash"])
    if not check.valid:
        context["errors"] = {"password": "This is not the password you typed on the first step."}
        return render(request, "register.html", context, 400)
    data, errors = parse(RegisterRequest, values | {"email": pending["email"]})
    if data is None:
        return render(request, "register.html", context | {"errors": errors}, 400)
    try:
        user = await auth.register(session, security, data, client_address(request))
    except (Forbidden, TooManyAttempts) as exc:
        errors = {"invitation_code" if data.role is Role.EMPLOYER else "role": exc.message}
        context |= {"errors": errors}
        return render(request, "register.html", context, exc.status_code, exc.response_headers())
    except Conflict as exc:
        request.session.pop(REGISTERING, None)
        raise Redirect("/", exc.message) from exc
    request.session.pop(REGISTERING, None)
    await start_user_session(request, user)
    return _go_home(user)


@router.post("/logout")
async def logout(request: Request) -> Response:
    end_user_session(request)
    raise Redirect("/", "You are logged out.")


def _company(request: Request) -> str:
    """The company's currency (the database records the same: start-up checks it)."""
    company: str = request.app.state.settings.company_currency
    return company


async def _currencies(
    session: AsyncSession, company: str, current: str | None = None
) -> OptionGroups:
    """The currency <select>'s groups (`currency_groups`), `current` kept among them."""
    return currency_groups(company, set(await currencies_with_rates(session)), current)


def _currency_help(company: str) -> str:
    return (
        f"As on the receipt. You are reimbursed in {company}, at the exchange rate of the "
        "purchase date."
    )


def _amount_help(company: str) -> str:
    # The company's own, then two whose decimals surprise: none, and three.
    examples = dict.fromkeys((company, "JPY", "KWD"))
    written = ", ".join(f"{amount_example(code)} {code}" for code in examples)
    return f"As on the receipt, with its currency's decimals: {written}."


def _receipts_help(request: Request) -> str:
    max_bytes: int = request.app.state.settings.receipt_max_bytes
    return (
        f"Photos or scans: {ACCEPTED}, up to {size_limit(max_bytes)} each, "
        f"at most {MAX_RECEIPTS_PER_TICKET} per ticket."
    )


async def _tickets_page(
    request: Request,
    session: SessionDep,
    user: User,
    page: int,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    listing = await tickets.list_tickets(
        session, user, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    categories = await list_categories(session, user)
    zone = request.app.state.settings.zone
    money = await reimbursement(session, user, zone)
    company = _company(request)
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
            "errors": {},
            "company": company,
            "currencies": await _currencies(session, company),
            "currency_help": _currency_help(company),
            "amount_help": _amount_help(company),
            "amount_example": amount_example(company),
            "categories": category_options(categories, company),
            "policies": categories,
            "receipts_help": _receipts_help(request),
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
    user: CurrentEmployee,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    return await _tickets_page(request, session, user, page)


def _ticket_values(form: FormData) -> dict[str, str]:
    """The ticket form's fields as typed; the currency as its <select> offers it (a
    hand-made post may say `eur`)."""
    values = form_values(form, *TICKET_FIELDS)
    values["currency"] = values["currency"].strip().upper()
    return values


def _ticket_data(values: dict[str, str]) -> dict[str, Any]:
    """The form's ticket fields for TicketCreate or TicketUpdate; an empty currency or
    category is left out (the company's currency and the default category when filing,
    unchanged when editing). The currency comes first: the amount's decimals are
    checked against it."""
    data: dict[str, Any] = {"spent_on": values["spent_on"] or None}
    if values["currency"]:
        data["currency"] = values["currency"]
    data |= {
        "amount": values["amount"] or None,
        "description": values["description"],
        "links": split_lines(values["links"]),
    }
    if values["category_id"]:
        data["category_id"] = values["category_id"]
    return data


def _field_error(exc: InvalidField) -> dict[str, str]:
    return {exc.field: exc.message}


def _idempotency_key(form: FormData) -> str | None:
    """The filing form's key; None when a hand-made post sends none (it files as usual)."""
    sent = form.get(IDEMPOTENCY_KEY)
    if not isinstance(sent, str) or not sent:
        return None
    try:
        return str(uuid.UUID(sent))
    except ValueError:  # the page sends UUIDs only
        raise HTTPException(400, UNREADABLE_FORM) from None


def _chosen_files(form: FormData) -> list[UploadFile]:
    # With no file chosen a browser still sends the field: one empty part without a name.
    return [
        value
        for value in form.getlist(RECEIPTS)
        if isinstance(value, UploadFile) and (value.filename or value.size)
    ]


def _receipts_over_limit(form: FormData, attached: int = 0) -> dict[str, str]:
    """A word for the receipts field when the form chose more than the ticket has room
    for (MAX_RECEIPTS_PER_TICKET beside the `attached` ones), before any file is read;
    none otherwise. The receipts service holds the limit under the ticket's lock."""
    chosen = len(_chosen_files(form))
    room = MAX_RECEIPTS_PER_TICKET - attached
    if chosen <= room:
        return {}
    has = f"this one has {attached} and " if attached else ""
    again = f"choose at most {room} files again" if room > 0 else "delete one before adding another"
    return {
        RECEIPTS: f"A ticket can have at most {MAX_RECEIPTS_PER_TICKET} receipts; {has}you "
        f"chose {chosen}. Nothing was saved: {again} (one PDF can hold several receipts)."
    }


def _refused(form: FormData, errors: dict[str, str]) -> dict[str, str]:
    """`errors`, and a word on the file input when files were chosen: a page shown
    again cannot keep them."""
    if _chosen_files(form):
        return {RECEIPTS: FILES_DROPPED} | errors
    return errors


@asynccontextmanager
async def _cleaned_receipts(
    session: AsyncSession, cleaner: ReceiptCleaner, user: User, form: FormData
) -> AsyncIterator[list[CleanReceipt]]:
    """The form's receipt files, each checked and cleaned before anything is stored (a
    bad file fails fast), and closed on the way out; the form counts as one upload in
    flight of `user` until then. While files are cleaned the request holds no database
    connection (`released`): call this before anything is written. One of
    _FILE_REFUSALS for the first refused file."""
    chosen = _chosen_files(form)
    if not chosen:
        yield []
        return
    cleaned: list[CleanReceipt] = []
    try:
        async with cleaner.turn(user.id):
            async with released(session):
                for upload in chosen:
                    cleaned.append(await cleaner.clean(upload.file, upload.filename))
            yield cleaned
    finally:
        for receipt in cleaned:
            receipt.file.close()


def _receipts(count: int) -> str:
    return f"{count} receipt{'' if count == 1 else 's'}"


def _filed(ticket: TicketRead, receipt_count: int, company: str) -> str:
    attached = f" with {_receipts(receipt_count)}" if receipt_count else ""
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
    user: CurrentEmployee,
) -> Response:
    """File a ticket and its receipts in one transaction: a refused receipt files nothing."""
    form = await read_form(request, max_files=MAX_FORM_FILES)
    try:
        values = _ticket_values(form)
        data, errors = parse(TicketCreate, _ticket_data(values))
        errors |= _receipts_over_limit(form)
        key = _idempotency_key(form)
        context: dict[str, Any] = {"values": values}
        if data is None or errors:
            context["errors"] = _refused(form, errors)
            return await _tickets_page(request, session, user, 1, context, 400)
        try:
            # A savepoint: a refusal after the filing undoes it (and its key), and the
            # form is shown again from this same transaction.
            async with (
                _cleaned_receipts(session, cleaner, user, form) as cleaned,
                session.begin_nested(),
            ):
                ticket, receipt_count = await _file_with_receipts(
                    session, storage, user, data, key, cleaned
                )
        except InvalidField as exc:
            context["errors"] = _refused(form, _field_error(exc))
            return await _tickets_page(request, session, user, 1, context, exc.status_code)
        except _FILE_REFUSALS as exc:
            context["errors"] = {RECEIPTS: f"{exc.message} {FILES_DROPPED}"}
            return await _tickets_page(request, session, user, 1, context, exc.status_code)
        except Conflict as exc:
            # Only the key conflicts here: a form that filed, sent again with other
            # values (kept by the back button). This render's key is a fresh one.
            context["error"] = (
                "This form was used to file a ticket already (see your tickets); "
                "file again to file another."
            )
            context["errors"] = _refused(form, {})
            return await _tickets_page(request, session, user, 1, context, exc.status_code)
    finally:
        await form.close()
    request.session[NOTICE] = _filed(ticket, receipt_count, _company(request))
    return RedirectResponse("/tickets", status_code=303)


def _edit_values(ticket: TicketRead) -> dict[str, str]:
    return {
        "spent_on": ticket.spent_on.isoformat(),
        "currency": ticket.currency,
        "amount": plain_money(ticket.amount, ticket.currency),
        "description": ticket.description,
        "links": "\n".join(ticket.links),
        "category_id": str(ticket.category.id),
    }


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
    company = _company(request)
    return render(
        request,
        "edit.html",
        {
            "user": user,
            "ticket": ticket,
            "values": values,
            "errors": {},
            "company": company,
            "currencies": await _currencies(session, company, ticket.currency),
            "currency_help": _currency_help(company),
            "amount_help": _amount_help(company),
            "categories": category_options(categories, company, ticket.category),
            "policies": categories,
            "receipts_help": _receipts_help(request),
            "max_receipts": MAX_RECEIPTS_PER_TICKET,
        }
        | (context or {}),
        status_code,
    )


@router.get("/tickets/{ticket_id}/edit")
async def edit_page(
    request: Request, session: SessionDep, user: CurrentEmployee, ticket: OwnTicket
) -> Response:
    return await _edit_page(request, session, user, ticket, _edit_values(ticket))


@router.post("/tickets/{ticket_id}/edit")
async def edit_ticket(
    request: Request,
    session: SessionDep,
    storage: ReceiptStorageDep,
    cleaner: ReceiptCleanerDep,
    user: CurrentEmployee,
    ticket: OwnTicket,
) -> Response:
    """Save the edit and add the chosen receipts in one transaction: a refused receipt
    saves nothing."""
    form = await read_form(request, max_files=MAX_FORM_FILES)
    context: dict[str, Any]
    try:
        values = _ticket_values(form)
        data, errors = parse(TicketUpdate, _ticket_data(values))
        errors |= _receipts_over_limit(form, len(ticket.receipts))
        if data is None or errors:
            context = {"errors": _refused(form, errors)}
            return await _edit_page(request, session, user, ticket, values, context, 400)
        edited = False
        try:
            async with (
                _cleaned_receipts(session, cleaner, user, form) as cleaned,
                session.begin_nested(),
            ):
                saved = await tickets.update_ticket(session, user, ticket.id, data)
                edited = True
                for receipt in cleaned:
                    await receipts.add_receipt(session, storage, user, ticket.id, receipt)
        except InvalidField as exc:
            context = {"errors": _refused(form, _field_error(exc))}
            return await _edit_page(request, session, user, ticket, values, context, 422)
        except (*_FILE_REFUSALS, Conflict) as exc:
            # A Conflict before the edit: the ticket was decided; after it: full of receipts.
            if isinstance(exc, Conflict) and not edited:
                context = {"error": exc.message}
            else:
                context = {"errors": {RECEIPTS: f"{exc.message} {FILES_DROPPED}"}}
            return await _edit_page(
                request, session, user, ticket, values, context, exc.status_code
            )
        added = f" {_receipts(len(cleaned)).capitalize()} added." if cleaned else ""
    finally:
        await form.close()
    spent = ticket_summary(saved, _company(request))
    # Saving does not send it in again: resubmitting is a step of its own.
    waiting = (
        " It is still sent back: resubmit it when it is ready."
        if saved.status is TicketStatus.CHANGES_REQUESTED
        else ""
    )
    request.session[NOTICE] = f"Ticket #{ticket.id} saved: {spent}.{added}{waiting}"
    return RedirectResponse("/tickets", status_code=303)


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
            "company": _company(request),
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
    spent = ticket_summary(resubmitted, _company(request))
    request.session[NOTICE] = (
        f"Ticket #{ticket.id} resubmitted: {spent} for {resubmitted.description} waits for "
        "a decision again."
    )
    return RedirectResponse("/tickets", status_code=303)


# Under /tickets: a browser path (main.is_browser_path), so it has a session and needs
# a CSRF token; two segments, so that no /tickets/{ticket_id} route claims it.
@router.post("/tickets/settings/emails")
async def set_email_notifications(
    request: Request, session: SessionDep, user: CurrentEmployee
) -> Response:
    """Turn emails about the employee's own tickets on or off, as the form says."""
    form = await read_form(request)
    chosen = form.get(EMAIL_NOTIFICATIONS)
    if chosen not in ("on", "off"):
        raise HTTPException(400, UNREADABLE_FORM)
    await auth.set_email_notifications(session, user, chosen == "on")
    request.session[NOTICE] = (
        "You will get emails about your tickets."
        if chosen == "on"
        else "You will get no more emails about your tickets."
    )
    return RedirectResponse("/tickets", status_code=303)


@router.post("/tickets/{ticket_id}/receipts/{receipt_id}/delete")
async def delete_receipt(
    request: Request,
    session: SessionDep,
    storage: ReceiptStorageDep,
    user: CurrentEmployee,
    ticket: OwnTicket,
    receipt_id: ReceiptId,
) -> Response:
    try:
        await receipts.remove_receipt(session, storage, user, ticket.id, receipt_id)
    except Conflict as exc:  # decided meanwhile; refused before anything changed
        context = {"error": exc.message}
        return await _edit_page(
            request, session, user, ticket, _edit_values(ticket), context, exc.status_code
        )
    # Named as the page listed it; one added since the page was read goes by its number.
    name = next(
        (f"“{receipt.filename}”" for receipt in ticket.receipts if receipt.id == receipt_id),
        f"#{receipt_id}",
    )
    request.session[NOTICE] = f"Receipt {name} removed from ticket #{ticket.id}."
    return RedirectResponse(f"/tickets/{ticket.id}/edit", status_code=303)


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
