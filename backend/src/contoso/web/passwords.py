"""Passwords on the pages: asking for a reset link, setting a new password with it, and
changing it on the employee's settings. The rules are the account service's."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from contoso.account import service as account
from contoso.account.schemas import (
    RESET_REQUESTED,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
)
from contoso.account.service import INVALID_RESET_LINK
from contoso.auth.dependencies import SecurityDep, client_address
from contoso.browser.forms import form_values, parse, read_form
from contoso.browser.login import home_of, start_user_session
from contoso.database import SessionDep
from contoso.errors import ContosoError
from contoso.web.dependencies import CurrentFiler
from contoso.web.rendering import NOTICE, render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

# Each form asks for the new password twice: a typo would lock its owner out.
AGAIN = "password_again"
PASSWORDS_DIFFER = "The two new passwords are not the same; type them again."
OTHERS_LOGGED_OUT = "Your password is changed. Every other browser and app was logged out."


@router.get("/forgot-password")
async def forgot_password_page(request: Request) -> Response:
    return render(request, "forgot_password.html", {"values": {}})


@router.post("/forgot-password")
async def forgot_password(request: Request, session: SessionDep, security: SecurityDep) -> Response:
    """Email a reset link; the login page then says what the API says, known address
    or not."""
    values = form_values(await read_form(request), "email")
    data, errors = parse(PasswordResetRequest, values)
    if data is None:
        return render(request, "forgot_password.html", {"values": values, "errors": errors}, 400)
    try:
        await account.request_password_reset(session, security, data.email, client_address(request))
    except ContosoError as exc:
        context = {"values": values, "error": exc.message}
        return render(
            request, "forgot_password.html", context, exc.status_code, exc.response_headers()
        )
    # Returned, not raised: the outbox row must commit with the request.
    request.session[NOTICE] = RESET_REQUESTED
    return RedirectResponse("/", status_code=303)


@router.get("/reset-password")
async def reset_password_page(request: Request, session: SessionDep) -> Response:
    """The form behind an emailed link, the token in a hidden field. Only read here: a
    dead link says so at once, and only the form's POST uses the link."""
    token = request.query_params.get("token", "")
    if not await account.reset_link_works(session, token):
        return render(request, "reset_password.html", {"dead": INVALID_RESET_LINK}, 400)
    return render(request, "reset_password.html", {"token": token})


@router.post("/reset-password")
async def reset_password(request: Request, session: SessionDep, security: SecurityDep) -> Response:
    """Set the new password, log this browser in, and go home."""
    form = await read_form(request)
    values = form_values(form, "token", "password", AGAIN)
    context: dict[str, Any] = {"token": values["token"]}
    if values["password"] != values[AGAIN]:
        return render(request, "reset_password.html", context | _differ(), 400)
    data, errors = parse(PasswordResetConfirm, _once(values))
    if data is None:
        return render(request, "reset_password.html", context | {"errors": errors}, 400)
    try:
        user = await account.reset_password(session, security, data.token, data.password)
    except ContosoError as exc:
        context = {"dead": exc.message}
        return render(request, "reset_password.html", context, exc.status_code)
    await start_user_session(request, user)
    request.session[NOTICE] = OTHERS_LOGGED_OUT
    return RedirectResponse(home_of(user), status_code=303)


# Under /tickets, like the email setting: a browser path with two segments.
SETTINGS_PAGE = "/tickets/settings/password"


@router.get(SETTINGS_PAGE)
async def change_password_page(request: Request, user: CurrentFiler) -> Response:
    return render(request, "change_password.html", {"user": user})


@router.post(SETTINGS_PAGE)
async def change_password(
    request: Request, session: SessionDep, security: SecurityDep, user: CurrentFiler
) -> Response:
    """Change the employee's password; this browser stays logged in (its session gets
    a new id at the new token version), every other one is logged out."""
    values = form_values(await read_form(request), "current_password", "new_password", AGAIN)
    context: dict[str, Any] = {"user": user}
    if values["new_password"] != values[AGAIN]:
        return render(request, "change_password.html", context | _differ(), 400)
    data, errors = parse(PasswordChange, _once(values))
    if data is None:
        return render(request, "change_password.html", context | {"errors": errors}, 400)
    try:
        changed = await account.change_password(
            session,
            security,
            user,
            data.current_password,
            data.new_password,
            client_address(request),
        )
    except ContosoError as exc:
        said = {"errors": {"current_password": exc.message}}
        return render(
            request,
            "change_password.html",
            context | said,
            exc.status_code,
            exc.response_headers(),
        )
    await start_user_session(request, changed)
    request.session[NOTICE] = OTHERS_LOGGED_OUT
    return RedirectResponse("/tickets", status_code=303)


def _once(values: dict[str, str]) -> dict[str, str]:
    """The form's fields as the API's schema takes them: the new password once."""
    return {name: value for name, value in values.items() if name != AGAIN}


def _differ() -> dict[str, Any]:
    return {"errors": {AGAIN: PASSWORDS_DIFFER}}
