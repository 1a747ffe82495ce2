"""The login page: logging in, registering in two steps, logging out."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError

from contoso.auth import service as auth
from contoso.auth.dependencies import SecurityDep, client_address
from contoso.auth.schemas import LoginRequest, NewPassword, RegisterRequest
from contoso.browser.forms import field_errors, form_values, parse, read_form
from contoso.browser.login import (
    NEXT,
    after_login,
    end_user_session,
    session_user,
    start_user_session,
)
from contoso.database import SessionDep
from contoso.errors import Conflict, ContosoError, Forbidden, TooManyAttempts
from contoso.models import Role, User
from contoso.web.dependencies import Redirect
from contoso.web.rendering import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

REGISTERING = "registering"
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
