"""Single sign-on's two steps in the browser, for both doors (the pages and the console):
leaving for the identity provider, and coming back from it."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from contoso.auth import service as auth
from contoso.auth.dependencies import SecurityDep
from contoso.auth.sso import (
    CALLBACK_PATH,
    TRANSACTION_COOKIE,
    TRANSACTION_SECONDS,
    Door,
    SingleSignOn,
)
from contoso.browser.forms import read_form
from contoso.browser.login import MAX_NEXT, NEXT, after_login, start_user_session
from contoso.database import SessionDep
from contoso.errors import ContosoError, NotFound
from contoso.web.rendering import render

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


def _sso(security: SecurityDep) -> SingleSignOn:
    if security.sso is None:
        raise NotFound("Single sign-on is not set up here.")
    return security.sso


@router.post("/sso")
async def start(request: Request, security: SecurityDep) -> Response:
    """The "Sign in with …" button (a CSRF-checked POST: it writes the sign-in's cookie):
    off to the provider, carrying the door and the page to come back to."""
    sso = _sso(security)
    form = await read_form(request)
    door = Door.CONSOLE if form.get("door") == Door.CONSOLE else Door.PAGES
    wanted = str(form.get(NEXT, ""))
    # Longer is no page of ours (after_login would not follow it), and would not fit the
    # cookie that carries it.
    url, transaction = await sso.begin(door, wanted if len(wanted) <= MAX_NEXT else "")
    response = RedirectResponse(url, status_code=303)
    # Lax, unlike the session's Strict: it must come back with the provider's redirect.
    response.set_cookie(
        TRANSACTION_COOKIE,
        transaction,
        max_age=TRANSACTION_SECONDS,
        path=CALLBACK_PATH,
        secure=sso.secure_cookie,
        httponly=True,
        samesite="lax",
    )
    return response


@router.get(CALLBACK_PATH)
async def callback(request: Request, session: SessionDep, security: SecurityDep) -> Response:
    """Back from the provider: the person is logged in, or told why not on their door's
    login page. A GET that logs in, as OpenID Connect has it: only with the state of the
    sign-in this browser started, its cookie used up here."""
    sso = _sso(security)
    transaction = None
    try:
        transaction = sso.transaction(request.cookies.get(TRANSACTION_COOKIE))
        identity = await sso.finish(transaction, dict(request.query_params))
        console = transaction.door is Door.CONSOLE
        user = await auth.sso_sign_in(session, security, identity, employers_only=console)
    except ContosoError as exc:
        response = _refused(request, exc, transaction.door if transaction else Door.PAGES)
    else:
        await start_user_session(request, user)
        # A page of ours takes them on: the browser came from the provider's site, and
        # would not send the session's SameSite=Strict cookie along a redirect from there.
        here = after_login(user, transaction.wanted)
        response = render(request, "signed_in.html", {"destination": here})
    response.delete_cookie(
        TRANSACTION_COOKIE, path=CALLBACK_PATH, secure=sso.secure_cookie, httponly=True
    )
    return response


def _refused(request: Request, error: ContosoError, door: Door) -> Response:
    if door is Door.CONSOLE:
        context = {"error": error.message, "back": "/admin/login"}
        return render(request, "error.html", context, error.status_code)
    return render(request, "login.html", {"email": "", "error": error.message}, error.status_code)
