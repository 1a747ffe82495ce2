"""CSRF on every form of the cookie-authenticated pages (the employee pages and the
console): the token a form carries, the signed cookie of a browser without a session,
and the check in front of every unsafe request."""

import hmac
import secrets
from collections.abc import Callable
from urllib.parse import urlsplit

from itsdangerous import BadSignature, Signer
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contoso.browser.forms import MAX_FORM_FILES, PARSED_FORM, read_form
from contoso.middleware import SAFE_METHODS

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_CSRF_SESSION_KEY = "csrf"
# Forms here are small; anything bigger is refused before it is parsed.
MAX_FORM_BYTES = 1024 * 1024

# A browser without a session (a visitor on a login page) keeps its CSRF token in this
# signed cookie, sent back beside the form's copy (double submit): viewing a form
# writes nothing to the database.
CSRF_COOKIE = "contoso_csrf"
# Its name over HTTPS: a browser keeps a __Host- cookie only when it is Secure, for
# Path=/ and without a Domain, so neither a sibling subdomain nor a plain-HTTP page of
# the same host can plant one.
SECURE_CSRF_COOKIE = f"__Host-{CSRF_COOKIE}"
_BROWSER_TOKEN = "contoso.csrf_cookie_token"  # noqa: S105 (a scope key name)
# Set when this response must give the browser its CSRF cookie (a new or renewed one).
_SET_COOKIE = "contoso.csrf_cookie_set"


def csrf_token(request: HTTPConnection) -> str:
    """This browser's CSRF token: render it in every form.

    A browser with a session (logged in, or half-way through registering) keeps it in
    the session, created on first use, and only that one passes the check; one without
    uses its CSRF cookie's token.
    """
    session = request.session
    token = session.get(_CSRF_SESSION_KEY)
    if token:
        return str(token)
    if not session:
        return str(request.scope[_BROWSER_TOKEN])
    token = secrets.token_urlsafe(32)
    session[_CSRF_SESSION_KEY] = token
    return token


def renew_csrf_cookie(request: HTTPConnection) -> None:
    """Give this browser a new CSRF cookie with this response: at login and logout, so
    that a token read before (on a shared computer, or planted with the cookie) is
    worthless after."""
    request.scope[_BROWSER_TOKEN] = secrets.token_urlsafe(32)
    request.scope[_SET_COOKIE] = True


class CsrfMiddleware:
    """Check every unsafe request to the cookie-authenticated paths.

    A request must come from our own origin (when the browser says where it
    comes from) and carry this browser's CSRF token (`csrf_token`: the session's,
    or its CSRF cookie's), in the `csrf_token` form field or the X-CSRF-Token
    header. Anything else gets a 403. A browser without a valid CSRF cookie gets
    one with its first page; over HTTPS (`https_only`, or a request that arrived as
    https) the cookie is SECURE_CSRF_COOKIE.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        applies: Callable[[str], bool],
        secret_key: str,
        https_only: bool,
        takes_files: Callable[[str], bool] = lambda path: False,
    ) -> None:
        self.app = app
        self.applies = applies
        self.takes_files = takes_files
        self._signer = Signer(secret_key, salt="csrf-cookie")
        self._https_only = https_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.applies(scope["path"]):
            await self.app(scope, receive, send)
            return
        cookie_name = self._cookie_name(scope)
        cookie_token = self._cookie_token(scope, cookie_name)
        scope[_BROWSER_TOKEN] = cookie_token or secrets.token_urlsafe(32)
        scope[_SET_COOKIE] = cookie_token is None
        send = self._setting_cookie(scope, send, cookie_name)
        if scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not _same_origin(headers):
            await _refuse("Cross-site request refused.")(scope, receive, send)
            return
        keep_form = self.takes_files(scope["path"])
        if keep_form:
            # A form with files is parsed once, here, as it streams in (files spooled to
            # disk, never held whole), and handed to the page as parsed (`read_form`).
            source, replay = receive, _replay(b"")
        else:
            body = await _read_body(receive)
            if body is None:
                await PlainTextResponse("Form too large.", status_code=413)(scope, receive, send)
                return
            replay = _replay(body)
            source = replay()
        # The session's token, or (a form shown before this browser had a session)
        # its cookie's, which a cross-site page can neither read nor set. Never the
        # cookie's beside a session's: a token from before login dies with it.
        expected = HTTPConnection(scope).session.get(_CSRF_SESSION_KEY) or cookie_token
        try:
            form_token = await _form_token(scope, source, keep=keep_form)
            sent = headers.get(CSRF_HEADER) or form_token
        except HTTPException as exc:  # a form that cannot be read (read_form)
            await PlainTextResponse(str(exc.detail), exc.status_code)(scope, receive, send)
            return
        if not sent or not expected or not hmac.compare_digest(str(sent), str(expected)):
            await _refuse(
                "This form has expired or did not come from this site. "
                "Go back, reload the page and try again."
            )(scope, receive, send)
            return
        await self.app(scope, replay(), send)

    def _cookie_name(self, scope: Scope) -> str:
        secure = self._https_only or scope.get("scheme") == "https"
        return SECURE_CSRF_COOKIE if secure else CSRF_COOKIE

    def _cookie_token(self, scope: Scope, name: str) -> str | None:
        """The token in this browser's CSRF cookie, if the cookie is ours and intact."""
        value = HTTPConnection(scope).cookies.get(name)
        if not value:
            return None
        try:
            return self._signer.unsign(value).decode()
        except (BadSignature, UnicodeDecodeError):
            return None

    def _setting_cookie(self, scope: Scope, send: Send, name: str) -> Send:
        """`send`, adding the CSRF cookie to the response when it is new or renewed
        (`renew_csrf_cookie`): what the scope says once the response starts."""
        flags = "Path=/; HttpOnly; SameSite=Strict"
        if name == SECURE_CSRF_COOKIE:
            flags += "; Secure"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and scope[_SET_COOKIE]:
                value = self._signer.sign(scope[_BROWSER_TOKEN]).decode()
                message["headers"] = [
                    *message.get("headers", []),
                    (b"set-cookie", f"{name}={value}; {flags}".encode("latin-1")),
                ]
            await send(message)

        return send_with_cookie


def _refuse(message: str) -> PlainTextResponse:
    return PlainTextResponse(message, status_code=403)


def _same_origin(headers: Headers) -> bool:
    # Browsers send Origin on cross-site POSTs; without one, fall back to Referer.
    source = headers.get("origin") or headers.get("referer")
    if not source or source == "null":
        return source is None
    return urlsplit(source).netloc == headers.get("host")


async def _read_body(receive: Receive, limit: int = MAX_FORM_BYTES) -> bytes | None:
    """The whole request body, or None once it passes `limit` bytes."""
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes) -> Callable[[], Receive]:
    def make() -> Receive:
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return receive

    return make


async def _form_token(scope: Scope, receive: Receive, *, keep: bool) -> str | None:
    """The form's CSRF token; with `keep`, the parsed form stays in the scope for
    `read_form` (the body cannot be read twice without holding it)."""
    content_type = Headers(scope=scope).get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    form = await read_form(Request(scope, receive), max_files=MAX_FORM_FILES if keep else 0)
    value = form.get(CSRF_FIELD)
    if keep:
        scope[PARSED_FORM] = form
    else:
        await form.close()
    return value if isinstance(value, str) else None
