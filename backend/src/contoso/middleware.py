"""Browser-facing protections: security headers on every response, CSRF on every form."""

import hmac
import secrets
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contoso.errors import DATABASE_DOWN_MESSAGE, is_connection_failure

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


def csrf_token(request: HTTPConnection) -> str:
    """This session's CSRF token, created on first use (render it in every form)."""
    token = request.session.get(_CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[_CSRF_SESSION_KEY] = token
    return token


class SecurityHeadersMiddleware:
    """Refuse framing, MIME sniffing and cross-origin referrers on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CsrfMiddleware:
    """Check every unsafe request to the cookie-authenticated paths.

    A request must come from our own origin (when the browser says where it
    comes from) and carry the session's CSRF token, in the `csrf_token` form
    field or the X-CSRF-Token header. Anything else gets a 403.
    """

    def __init__(self, app: ASGIApp, *, applies: Callable[[str], bool]) -> None:
        self.app = app
        self.applies = applies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or not self.applies(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not _same_origin(headers):
            await _refuse("Cross-site request refused.")(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            await PlainTextResponse("Form too large.", status_code=413)(scope, receive, send)
            return
        replay = _replay(body)
        expected = HTTPConnection(scope).session.get(_CSRF_SESSION_KEY)
        sent = headers.get(CSRF_HEADER) or await _form_token(scope, replay())
        if not expected or not sent or not hmac.compare_digest(str(sent), str(expected)):
            await _refuse(
                "This form has expired or did not come from this site. "
                "Go back, reload the page and try again."
            )(scope, receive, send)
            return
        await self.app(scope, replay(), send)


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


async def _form_token(scope: Scope, receive: Receive) -> str | None:
    content_type = Headers(scope=scope).get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    async with Request(scope, receive).form() as form:
        value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None


class BodySizeLimitMiddleware:
    """Refuse request bodies over `max_bytes` with 413, whether declared or streamed.

    The body is read here (at most `max_bytes` of it) and replayed to the app, so a
    chunked upload cannot slip past a Content-Length check.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        body = await _read_body(receive, self.max_bytes)
        if body is None:
            await self._refuse(scope, receive, send)
            return
        await self.app(scope, _replay(body)(), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit_kib = self.max_bytes // 1024
        response = JSONResponse(
            {"detail": f"The request body is too large (the limit is {limit_kib} KiB)."},
            status_code=413,
        )
        await response(scope, receive, send)


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
            if started or not is_connection_failure(exc):
                raise
            response = JSONResponse(
                {"detail": DATABASE_DOWN_MESSAGE}, status_code=503, headers={"Retry-After": "5"}
            )
            await response(scope, receive, send)
