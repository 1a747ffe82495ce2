"""Browser-facing protections: security headers on every response, CSRF on every form."""

import hmac
import secrets
from collections.abc import Callable
from urllib.parse import urlsplit

from itsdangerous import BadSignature, Signer
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contoso.errors import (
    BUSY_MESSAGE,
    BUSY_RETRY_SECONDS,
    DATABASE_DOWN_MESSAGE,
    is_connection_failure,
)
from contoso.web.forms import MAX_FORM_FILES, PARSED_FORM, read_form

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_CSRF_SESSION_KEY = "csrf"
# Forms here are small; anything bigger is refused before it is parsed.
MAX_FORM_BYTES = 1024 * 1024

SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


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


# Tickets, sessions' pages and tokens must not stay in a browser's or a proxy's cache
# (a shared computer's back button, a caching proxy); only the static files may.
NO_STORE = [(b"cache-control", b"no-store")]


class SecurityHeadersMiddleware:
    """Refuse framing, MIME sniffing, cross-origin referrers and caching on every
    response; static files (paths for which `is_static` is true) may be cached."""

    def __init__(self, app: ASGIApp, *, is_static: Callable[[str], bool]) -> None:
        self.app = app
        self.is_static = is_static

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = SECURITY_HEADERS if self.is_static(scope["path"]) else SECURITY_HEADERS + NO_STORE

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in wanted if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


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


class _BodyTooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """Refuse request bodies over `max_bytes_for(path)` with 413, whether declared or
    streamed.

    The body is counted as the app reads it, never buffered here: an upload streams
    through to the form parser, which spools files to disk. Once a body passes its
    limit, reading it fails, and whatever the app answers to that is replaced by the
    413.
    """

    def __init__(self, app: ASGIApp, *, max_bytes_for: Callable[[str], int]) -> None:
        self.app = app
        self.max_bytes_for = max_bytes_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes_for(scope["path"])
        declared = Headers(scope=scope).get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            await self._refuse(limit)(scope, receive, send)
            return
        received, exceeded, started = 0, False, False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                exceeded = True
                raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if not exceeded:
                started = started or message["type"] == "http.response.start"
                await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await self._refuse(limit)(scope, receive, send)

    @staticmethod
    def _refuse(limit: int) -> JSONResponse:
        limit_kib = limit // 1024
        return JSONResponse(
            {"detail": f"The request body is too large (the limit is {limit_kib} KiB)."},
            status_code=413,
        )


class DatabaseOutageMiddleware:
    """Outermost guard: a database outage surfacing anywhere (a session lookup in
    middleware included) answers 503 with a plain message, never a 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            if isinstance(exc, PoolTimeoutError):
                response = JSONResponse(
                    {"detail": BUSY_MESSAGE},
                    status_code=503,
                    headers={"Retry-After": str(BUSY_RETRY_SECONDS)},
                )
            elif is_connection_failure(exc):
                response = JSONResponse(
                    {"detail": DATABASE_DOWN_MESSAGE},
                    status_code=503,
                    headers={"Retry-After": "5"},
                )
            else:
                raise
            await response(scope, receive, send)
