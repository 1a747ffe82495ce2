"""The employee pages: Login / Register, and My tickets. Server-rendered, no JavaScript."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError

from contoso.auth import service as auth
from contoso.auth.browser import session_user, start_user_session
from contoso.auth.dependencies import SecurityDep, client_address
from contoso.auth.schemas import LoginRequest, NewPassword, RegisterRequest
from contoso.database import SessionDep
from contoso.errors import Conflict, ContosoError, Forbidden
from contoso.models import Role, TicketStatus, User
from contoso.sessions import end_session
from contoso.tickets import service as tickets
from contoso.tickets.schemas import TicketCreate, TicketUpdate
from contoso.web.dependencies import CurrentEmployee, OwnTicket, Redirect, home_of
from contoso.web.forms import field_errors, form_values, parse, read_form, split_lines
from contoso.web.rendering import NOTICE, render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

PAGE_SIZE = 20
REGISTERING = "registering"
TICKET_FIELDS = ("spent_on", "amount", "description", "links")
_new_password = TypeAdapter(NewPassword)


def _go_home(user: User) -> RedirectResponse:
    # 303: after a POST the browser follows with a GET.
    return RedirectResponse(home_of(user), status_code=303)


@router.get("/")
async def login_page(request: Request, session: SessionDep) -> Response:
    user = await session_user(request, session)
    if user is not None:
        return _go_home(user)
    return render(request, "login.html", {"email": ""})


@router.post("/")
async def login_or_register(
    request: Request, session: SessionDep, security: SecurityDep
) -> Response:
    """One button: log in an existing user, or start registering a new email."""
    form = await read_form(request)
    values = form_values(form, "email", "password")
    credentials, errors = parse(LoginRequest, values)
    if credentials is None:
        return render(request, "login.html", {"email": values["email"], "errors": errors}, 400)
    try:
        user = await auth.sign_in(
            session, security, credentials.email, credentials.password, client_address(request)
        )
    except ContosoError as exc:
        # The form again, with the error's own status and headers (429 keeps Retry-After).
        context = {"email": credentials.email, "error": exc.message}
        return render(request, "login.html", context, exc.status_code, exc.response_headers())
    if user is not None:
        await start_user_session(request, user)
        return _go_home(user)
    try:
        _new_password.validate_python(credentials.password)
    except ValidationError as exc:
        errors = {"password": field_errors(exc).get("form", "Choose a longer password")}
        return render(request, "login.html", {"email": credentials.email, "errors": errors}, 400)
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
        user = await auth.register(session, security, data)
    except Forbidden as exc:
        errors = {"invitation_code" if data.role is Role.EMPLOYER else "role": exc.message}
        return render(request, "register.html", context | {"errors": errors}, exc.status_code)
    except Conflict as exc:
        request.session.pop(REGISTERING, None)
        raise Redirect("/", exc.message) from exc
    request.session.pop(REGISTERING, None)
    await start_user_session(request, user)
    return _go_home(user)


@router.post("/logout")
async def logout(request: Request) -> Response:
    await end_session(request)
    raise Redirect("/", "You are logged out.")


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
    return render(
        request,
        "tickets.html",
        {
            "user": user,
            "tickets": listing.items,
            "total": listing.total,
            "page": page,
            "pages": max(1, -(-listing.total // PAGE_SIZE)),
            "values": {},
            "errors": {},
            "pending": TicketStatus.PENDING,
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


def _ticket_data(values: dict[str, str]) -> dict[str, Any]:
    return {
        "spent_on": values["spent_on"] or None,
        "amount": values["amount"] or None,
        "description": values["description"],
        "links": split_lines(values["links"]),
    }


@router.post("/tickets")
async def file_ticket(request: Request, session: SessionDep, user: CurrentEmployee) -> Response:
    values = form_values(await read_form(request), *TICKET_FIELDS)
    data, errors = parse(TicketCreate, _ticket_data(values))
    if data is None:
        return await _tickets_page(
            request, session, user, 1, {"values": values, "errors": errors}, 400
        )
    ticket = await tickets.file_ticket(session, user, data)
    request.session[NOTICE] = (
        f"Ticket #{ticket.id} filed: {ticket.amount} for {ticket.description}."
    )
    return RedirectResponse("/tickets", status_code=303)


@router.get("/tickets/{ticket_id}/edit")
async def edit_page(request: Request, user: CurrentEmployee, ticket: OwnTicket) -> Response:
    values = {
        "spent_on": ticket.spent_on.isoformat(),
        "amount": str(ticket.amount),
        "description": ticket.description,
        "links": "\n".join(ticket.links),
    }
    context = {"user": user, "ticket": ticket, "values": values, "errors": {}}
    return render(request, "edit.html", context)


@router.post("/tickets/{ticket_id}/edit")
async def edit_ticket(
    request: Request, session: SessionDep, user: CurrentEmployee, ticket: OwnTicket
) -> Response:
    values = form_values(await read_form(request), *TICKET_FIELDS)
    context: dict[str, Any] = {"user": user, "ticket": ticket, "values": values, "errors": {}}
    data, errors = parse(TicketUpdate, _ticket_data(values))
    if data is None:
        return render(request, "edit.html", context | {"errors": errors}, 400)
    try:
        await tickets.update_ticket(session, user, ticket.id, data)
    except Conflict as exc:
        return render(request, "edit.html", context | {"error": exc.message}, exc.status_code)
    request.session[NOTICE] = f"Ticket #{ticket.id} saved."
    return RedirectResponse("/tickets", status_code=303)
