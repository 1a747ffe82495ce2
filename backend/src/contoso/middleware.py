"""Protections in front of every door: security headers on every response, a size limit
on request bodies, and a plain 503 when the database is down or busy (CSRF, for the
browser doors alone, is `browser.csrf`)."""

from collections.abc import Callable

from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contoso.errors import (
    BUSY_MESSAGE,
    BUSY_RETRY_SECONDS,
    DATABASE_DOWN_MESSAGE,
    is_connection_failure,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]

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
