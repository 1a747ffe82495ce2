"""The login page: logging in, registering in two steps, logging out."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError

from contoso.auth import service as auth
from contoso.auth.dependencies import SecurityDep, client_address
from contoso.auth.schemas import (
    INVITATION_CODE_MAX,
    LoginRequest,
    NewPassword,
    RegisterRequest,
)
from contoso.browser.forms import field_errors, form_values, parse, read_form
from contoso.browser.login import (
    NEXT,
    after_login,
    end_user_session,
    session_user,
    start_user_session,
)
from contoso.database import SessionDep
from contoso.errors import (
    Conflict,
    ContosoError,
    Forbidden,
    InvitationRequired,
    OutsideAllowedDomains,
    TooManyAttempts,
)
from contoso.models import User
from contoso.web.dependencies import Redirect
from contoso.web.rendering import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

REGISTERING = "registering"
_new_password = TypeAdapter(NewPassword)


def _go_home(user: User, wanted: object = None) -> RedirectResponse:
    """To the page asked for before logging in (`wanted`), if it is one, else home."""
    # 303: after a POST the browser follows with a GET.
    return RedirectResponse(after_login(user, wanted), status_code=303)


# An invitation email's link: `/?invitation=CODE`; the code is carried to registration.
INVITATION = "invitation"
INVITATION_CODE = "invitation_code"


def _invitation_code(value: object) -> str:
    """The invitation code a link or a form carries, if it can be one."""
    code = str(value or "").strip()
    return code if len(code) <= INVITATION_CODE_MAX else ""


@router.get("/")
async def login_page(request: Request, session: SessionDep) -> Response:
    wanted = request.query_params.get(NEXT)
    user = await session_user(request, session)
    if user is not None:
        return _go_home(user, wanted)
    code = _invitation_code(request.query_params.get(INVITATION))
    return render(request, "login.html", {"email": "", NEXT: wanted, INVITATION_CODE: code})


@router.post("/")
async def login_or_register(
    request: Request, session: SessionDep, security: SecurityDep
) -> Response:
    """One button: log in an existing user, or start registering a new email."""
    form = await read_form(request)
    values = form_values(form, "email", "password")
    # The page to come back to, which the form keeps when it comes back.
    wanted = str(form.get(NEXT, ""))
    code = _invitation_code(form.get(INVITATION_CODE))
    again: dict[str, Any] = {NEXT: wanted, INVITATION_CODE: code}
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
    if security.sso_only:
        # A new email: accounts come from the identity provider alone.
        context = again | {"email": credentials.email, "error": auth.sso_only_message(security)}
        return render(request, "login.html", context, 403)
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
    # Invited by a link: the code is filled in, and its role applies (none to choose).
    context = {"email": credentials.email, "values": {INVITATION_CODE: code}, "invited": bool(code)}
    return render(request, "register.html", context)


@router.post("/register")
async def register(request: Request, session: SessionDep, security: SecurityDep) -> Response:
    pending = request.session.get(REGISTERING)
    if not isinstance(pending, dict):
        raise Redirect("/", "Start with your email and a password.")
    form = await read_form(request)
    values = form_values(form, "username", "role", "password", INVITATION_CODE)
    # Invited by a link, the form has no role to choose: the invitation's applies.
    invited = form.get("invited") == "1"
    context: dict[str, Any] = {"email": pending["email"], "values": values, "invited": invited}
    check = await security.hasher.verify(values["password"], pending["password_hash"])
    if not check.valid:
        context["errors"] = {"password": "This is not the password you typed on the first step."}
        return render(request, "register.html", context, 400)
    asked = {name: value for name, value in values.items() if value or name != INVITATION_CODE}
    if invited:
        asked.pop("role")
    data, errors = parse(RegisterRequest, asked | {"email": pending["email"]})
    if data is None:
        return render(request, "register.html", context | {"errors": errors}, 400)
    try:
        user = await auth.register(session, security, data, client_address(request))
    except (Forbidden, TooManyAttempts) as exc:
        context |= _refusal(exc, data)
        return render(request, "register.html", context, exc.status_code, exc.response_headers())
    except Conflict as exc:
        request.session.pop(REGISTERING, None)
        raise Redirect("/", exc.message) from exc
    request.session.pop(REGISTERING, None)
    await start_user_session(request, user)
    return _go_home(user)


def _refusal(exc: Forbidden | TooManyAttempts, data: RegisterRequest) -> dict[str, Any]:
    """Where the register page shows why it was refused: beside the invitation code when
    one was given or is what is missing, beside the role when the employer role is
    closed, above the form otherwise (an address outside the allowed domains)."""
    if isinstance(exc, OutsideAllowedDomains):
        return {"error": exc.message}
    if data.invitation_code or isinstance(exc, InvitationRequired | TooManyAttempts):
        return {"errors": {INVITATION_CODE: exc.message}}
    return {"errors": {"role": exc.message}}


@router.post("/logout")
async def logout(request: Request) -> Response:
    end_user_session(request)
    raise Redirect("/", "You are logged out.")
