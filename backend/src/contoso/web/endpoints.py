"""The employee pages: Login / Register, and My tickets. Server-rendered, no JavaScript."""

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import TypeAdapter, ValidationError

from contoso.auth import service as auth
from contoso.auth.browser import USER_ID, session_user, start_user_session
from contoso.auth.dependencies import SecurityDep, client_address
from contoso.auth.schemas import LoginRequest, NewPassword, RegisterRequest
from contoso.database import SessionDep
from contoso.errors import Conflict, ContosoError, Forbidden, NotFound
from contoso.middleware import CSRF_FIELD, csrf_token
from contoso.models import Ticket, TicketStatus, User
from contoso.sessions import end_session
from contoso.tickets import service as tickets
from contoso.tickets.dependencies import TicketId
from contoso.tickets.schemas import TicketCreate, TicketUpdate
from contoso.web.forms import field_errors, form_values, parse, split_lines

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals |= {"csrf_token": csrf_token, "csrf_field": CSRF_FIELD}

PAGE_SIZE = 20
REGISTERING = "registering"
NOTICE = "notice"
TICKET_FIELDS = ("spent_on", "amount", "description", "links")
_new_password = TypeAdapter(NewPassword)


def _render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    notice = request.session.pop(NOTICE, None)
    return templates.TemplateResponse(
        request, name, {"notice": notice} | (context or {}), status_code=status_code
    )


def _home(user: User) -> RedirectResponse:
    # 303: after a POST the browser follows with a GET.
    return RedirectResponse("/admin/" if user.is_employer else "/tickets", status_code=303)


def _to_login(request: Request, notice: str | None = None) -> RedirectResponse:
    if notice:
        request.session[NOTICE] = notice
    return RedirectResponse("/", status_code=303)


async def _employee(request: Request, session: SessionDep) -> User | RedirectResponse:
    """The logged-in employee, or where to send this visitor instead."""
    user = await session_user(request, session)
    if user is None:
        user_id = request.session.get(USER_ID)
        await end_session(request)
        if not isinstance(user_id, int):
            return _to_login(request)
        account = await session.get(User, user_id)
        suspended = account is not None and account.suspended
        return _to_login(request, auth.SUSPENDED if suspended else "Please log in again.")
    if user.is_employer:
        return _home(user)
    return user


@router.get("/")
async def login_page(request: Request, session: SessionDep) -> Response:
    user = await session_user(request, session)
    if user is not None:
        return _home(user)
    return _render(request, "login.html", {"email": ""})


@router.post("/")
async def login_or_register(
    request: Request, session: SessionDep, security: SecurityDep
) -> Response:
    """One button: log in an existing user, or start registering a new email."""
    form = await request.form()
    values = form_values(form, "email", "password")
    credentials, errors = parse(LoginRequest, values)
    if credentials is None:
        return _render(request, "login.html", {"email": values["email"], "errors": errors}, 400)
    try:
        user = await auth.sign_in(
            session,
            security,
            credentials.email,
            credentials.password,
            client_address(request),
        )
    except ContosoError as exc:
        status = 403 if isinstance(exc, Forbidden) else 400
        return _render(
            request, "login.html", {"email": credentials.email, "error": exc.message}, status
        )
    if user is not None:
        await start_user_session(request, user)
        return _home(user)
    try:
        _new_password.validate_python(credentials.password)
    except ValidationError as exc:
        errors = {"password": field_errors(exc).get("form", "Choose a longer password")}
        return _render(request, "login.html", {"email": credentials.email, "errors": errors}, 400)
    # A new email: remember it and a hash of the password (never the password
    # itself) for the second step, which asks for the password again.
    request.session[REGISTERING] = {
        "email": credentials.email,
        "password_hash": await security.hasher.hash(credentials.password),
    }
    return _render(request, "register.html", {"email": credentials.email, "values": {}})


@router.post("/register")
async def register(request: Request, session: SessionDep, security: SecurityDep) -> Response:
    pending = request.session.get(REGISTERING)
    if not isinstance(pending, dict):
        return _to_login(request, "Start with your email and a password.")
    form = await request.form()
    values = form_values(form, "username", "role", "password")
    context: dict[str, Any] = {"email": pending["email"], "values": values}
    check = await security.hasher.verify(values["password"], pending["password_hash"])
    if not check.valid:
        context["errors"] = {"password": "This is not the password you typed on the first step."}
        return _render(request, "register.html", context, 400)
    data, errors = parse(RegisterRequest, values | {"email": pending["email"]})
    if data is None:
        return _render(request, "register.html", context | {"errors": errors}, 400)
    try:
        user = await auth.register(session, security.hasher, data)
    except Conflict as exc:
        request.session.pop(REGISTERING, None)
        return _to_login(request, exc.message)
    request.session.pop(REGISTERING, None)
    await start_user_session(request, user)
    return _home(user)


@router.post("/logout")
async def logout(request: Request) -> Response:
    await end_session(request)
    return _to_login(request, "You are logged out.")


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
    pages = max(1, -(-listing.total // PAGE_SIZE))
    return _render(
        request,
        "tickets.html",
        {
            "user": user,
            "tickets": listing.items,
            "total": listing.total,
            "page": page,
            "pages": pages,
            "values": {},
            "errors": {},
            "pending": TicketStatus.PENDING,
        }
        | (context or {}),
        status_code,
    )


@router.get("/tickets")
async def my_tickets(
    request: Request, session: SessionDep, page: Annotated[int, Query(ge=1, le=100_000)] = 1
) -> Response:
    user = await _employee(request, session)
    if isinstance(user, Response):
        return user
    return await _tickets_page(request, session, user, page)


def _ticket_data(values: dict[str, str]) -> dict[str, Any]:
    return {
        "spent_on": values["spent_on"] or None,
        "amount": values["amount"] or None,
        "description": values["description"],
        "links": split_lines(values["links"]),
    }


@router.post("/tickets")
async def file_ticket(request: Request, session: SessionDep) -> Response:
    user = await _employee(request, session)
    if isinstance(user, Response):
        return user
    values = form_values(await request.form(), *TICKET_FIELDS)
    data, errors = parse(TicketCreate, _ticket_data(values))
    if data is None:
        return await _tickets_page(
            request, session, user, 1, {"values": values, "errors": errors}, 400
        )
    ticket = await tickets.create_ticket(session, user, data)
    request.session[NOTICE] = (
        f"Ticket #{ticket['id']} filed: {ticket['amount']} for {ticket['description']}."
    )
    return RedirectResponse("/tickets", status_code=303)


async def _own_ticket(
    request: Request, session: SessionDep, ticket_id: int
) -> tuple[User, Ticket] | Response:
    """The logged-in employee and their ticket, or the page to show instead."""
    user = await _employee(request, session)
    if isinstance(user, Response):
        return user
    try:
        return user, await tickets.get_ticket(session, user, ticket_id)
    except NotFound as exc:
        return _render(request, "missing.html", {"user": user, "error": exc.message}, 404)


@router.get("/tickets/{ticket_id}/edit")
async def edit_page(ticket_id: TicketId, request: Request, session: SessionDep) -> Response:
    found = await _own_ticket(request, session, ticket_id)
    if isinstance(found, Response):
        return found
    user, ticket = found
    values = {
        "spent_on": ticket.spent_on.isoformat(),
        "amount": str(ticket.amount),
        "description": ticket.description,
        "links": "\n".join(ticket.links),
    }
    context = {"user": user, "ticket": ticket, "values": values, "errors": {}}
    return _render(request, "edit.html", context)


@router.post("/tickets/{ticket_id}/edit")
async def edit_ticket(ticket_id: TicketId, request: Request, session: SessionDep) -> Response:
    found = await _own_ticket(request, session, ticket_id)
    if isinstance(found, Response):
        return found
    user, ticket = found
    values = form_values(await request.form(), *TICKET_FIELDS)
    data, errors = parse(TicketUpdate, _ticket_data(values))
    if data is None:
        context = {"user": user, "ticket": ticket, "values": values, "errors": errors}
        return _render(request, "edit.html", context, 400)
    try:
        await tickets.update_ticket(session, user, ticket_id, data)
    except Conflict as exc:
        context = {"user": user, "ticket": ticket, "values": values, "errors": {}}
        context["error"] = exc.message
        return _render(request, "edit.html", context, 409)
    request.session[NOTICE] = f"Ticket #{ticket_id} saved."
    return RedirectResponse("/tickets", status_code=303)
