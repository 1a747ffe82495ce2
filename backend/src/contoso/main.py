"""The application factory: API routers, health checks, error handlers."""

import asyncio
import contextlib
import gc
import logging
import os
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from contoso.account.endpoints import router as account_router
from contoso.account.service import forget_expired_reset_links
from contoso.admin.console import mount_console
from contoso.allowed_methods import AllowedMethodsMiddleware
from contoso.auth.endpoints import router as auth_router
from contoso.auth.security import Security
from contoso.bootstrap import migrate_when_reachable
from contoso.browser.csrf import CsrfMiddleware
from contoso.categories.endpoints import router as categories_router
from contoso.comments.endpoints import router as comments_router
from contoso.config import Settings, get_settings
from contoso.currencies.endpoints import router as exchange_rates_router
from contoso.database import create_database
from contoso.employees.endpoints import router as employees_router
from contoso.errors import DATABASE_DOWN_MESSAGE, error_responses, install_error_handlers
from contoso.hosts import RelativeRedirectMiddleware, TrustedHostsMiddleware
from contoso.invitations.endpoints import router as invitations_router
from contoso.logs import RequestIdMiddleware, configure_logging
from contoso.mail.sender import run_sender
from contoso.middleware import (
    BodySizeLimitMiddleware,
    DatabaseOutageMiddleware,
    SecurityHeadersMiddleware,
)
from contoso.openapi import add_links, keep_integer_bounds, mount_docs, operation_id
from contoso.payments.endpoints import router as payments_router
from contoso.receipts.decoding import ReceiptCleaner
from contoso.receipts.endpoints import router as receipts_router
from contoso.receipts.service import MAX_RECEIPTS_PER_TICKET
from contoso.receipts.storage import DatabaseStorage
from contoso.sessions import (
    SESSION_SWEEP_INTERVAL,
    PostgresSessionStore,
    ServerSessionMiddleware,
)
from contoso.strict_json import StrictJsonMiddleware
from contoso.sweeping import sweep_periodically
from contoso.tickets.endpoints import router as tickets_router
from contoso.tickets.service import forget_expired_filing_keys
from contoso.web.dependencies import install_redirects
from contoso.web.pages import router as pages_router
from contoso.web.rendering import render_error

logger = logging.getLogger(__name__)

BROWSER_PREFIXES = (
    "/admin",
    "/tickets",
    "/register",
    "/logout",
    "/forgot-password",
    "/reset-password",
    "/sso",
)
STATIC_PREFIXES = ("/admin/statics", "/docs/assets")
HEALTH_PATHS = ("/healthz", "/readyz")


def is_static_path(path: str) -> bool:
    """Files that are the same for everyone (the console's and /docs' scripts and styles)."""
    return path.startswith(STATIC_PREFIXES)


def is_browser_path(path: str) -> bool:
    """The cookie-authenticated pages (console and employee pages): they get a
    session, and every unsafe request to them needs a CSRF token. The API uses
    bearer tokens and static files need neither."""
    return (path == "/" or path.startswith(BROWSER_PREFIXES)) and not is_static_path(path)


# The routes that take receipts, and so the only ones allowed large bodies.
_API_UPLOADS = re.compile(r"/api/tickets/[0-9]+/receipts")
_PAGE_UPLOADS = re.compile(r"/tickets(?:/[0-9]+/(?:edit|receipts))?")
# The console's invitations take a CSV file of addresses, within MAX_BODY_BYTES.
_CONSOLE_UPLOADS = re.compile(r"/admin/invitations/new")
# Room for a multipart body's own parts beside its files.
_FORM_OVERHEAD = 256 * 1024


def takes_files(path: str) -> bool:
    """A page whose form carries files (parsed as it streams, see CsrfMiddleware)."""
    return any(uploads.fullmatch(path) for uploads in (_PAGE_UPLOADS, _CONSOLE_UPLOADS))


def body_limits(settings: Settings) -> Callable[[str], int]:
    """The largest request body each path accepts."""
    one_file = settings.receipt_max_bytes + _FORM_OVERHEAD
    all_files = MAX_RECEIPTS_PER_TICKET * settings.receipt_max_bytes + _FORM_OVERHEAD

    def max_bytes_for(path: str) -> int:
        if _API_UPLOADS.fullmatch(path):
            return one_file
        return all_files if _PAGE_UPLOADS.fullmatch(path) else settings.max_body_bytes

    return max_bytes_for


MIGRATE_ON_START = "CONTOSO_MIGRATE_ON_START"
# At shutdown, how long the mail sender may take to finish the email it is sending.
SENDER_GRACE_SECONDS = 10.0


class Ready(BaseModel):
    status: Literal["ready"]


class NotReady(BaseModel):
    status: Literal["unavailable"]
    detail: str


def app_from_environment() -> FastAPI:
    """The app for one uvicorn worker, from the environment `contoso serve` prepared."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings, migrate_on_start=os.environ.get(MIGRATE_ON_START) == "1")


def create_app(settings: Settings | None = None, *, migrate_on_start: bool = False) -> FastAPI:
    """Build the app for `settings`, whose database URL and secret must be resolved.

    `contoso serve` resolves them (embedded database, development secret) first.
    With `migrate_on_start`, the migrations run in the background once the
    database answers, and /readyz says 503 until then.
    """
    settings = settings or get_settings()
    if settings.secret_key is None:
        raise RuntimeError("resolve the secret key before creating the app")
    secret_key = settings.secret_key.get_secret_value()
    database = create_database(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        migrating = None
        if migrate_on_start:
            app.state.migrations_pending = True
            migrating = asyncio.create_task(
                migrate_when_reachable(
                    settings.database_url or "",
                    settings.company_currency,
                    lambda: setattr(app.state, "migrations_pending", False),
                )
            )
        elif not await database.is_ready():
            logger.error("The database is unreachable; /readyz reports 503 until it answers.")
        await asyncio.to_thread(app.state.receipt_cleaner.start)
        # Everything built so far lives as long as the process: move it out of the
        # collector's reach, so full collections stop pausing requests for 100+ ms.
        gc.collect()
        gc.freeze()
        sweeps = [
            asyncio.create_task(
                sweep_periodically(
                    "expired sessions",
                    app.state.session_store.purge_expired,
                    SESSION_SWEEP_INTERVAL,
                )
            ),
            asyncio.create_task(
                sweep_periodically(
                    "expired filing keys",
                    lambda: forget_expired_filing_keys(database),
                    SESSION_SWEEP_INTERVAL,
                )
            ),
            asyncio.create_task(
                sweep_periodically(
                    "expired password reset links",
                    lambda: forget_expired_reset_links(database),
                    SESSION_SWEEP_INTERVAL,
                )
            ),
        ]
        # Every worker delivers the outbox: each email is claimed with SKIP LOCKED.
        stop_sending = asyncio.Event()
        sending = asyncio.create_task(run_sender(database, settings, stop_sending))
        yield
        stop_sending.set()
        for sweep in sweeps:
            sweep.cancel()
        # The email being sent is let finish (or time out) rather than sent again later.
        if not (await asyncio.wait({sending}, timeout=SENDER_GRACE_SECONDS))[0]:
            sending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sending
        if migrating is not None:
            migrating.cancel()
        app.state.receipt_cleaner.close()
        await database.dispose()

    app = FastAPI(
        title="Contoso Expenses",
        summary="File expense tickets; employers approve or deny them.",
        lifespan=lifespan,
        docs_url=None,  # mount_docs serves /docs without a CDN
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.security = Security.from_settings(settings)
    app.state.receipt_storage = DatabaseStorage(database.engine)
    app.state.receipt_cleaner = ReceiptCleaner.from_settings(settings)

    api = APIRouter(prefix="/api", responses=error_responses(400, 413, 503))
    api.include_router(auth_router)
    api.include_router(invitations_router)
    api.include_router(account_router)
    api.include_router(tickets_router)
    api.include_router(employees_router)
    api.include_router(categories_router)
    api.include_router(receipts_router)
    api.include_router(payments_router)
    api.include_router(exchange_rates_router)
    api.include_router(comments_router)
    app.include_router(api)
    app.include_router(pages_router)
    if settings.docs_enabled:
        mount_docs(app)
        keep_integer_bounds(app)
        add_links(app)

    @app.get("/healthz", tags=["health"], name="live")
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        name="ready",
        responses={200: {"model": Ready}, 503: {"model": NotReady, "description": "Database down"}},
    )
    async def readyz(request: Request) -> JSONResponse:
        """The database answers a query."""
        pending = getattr(request.app.state, "migrations_pending", False)
        if not pending and await request.app.state.database.is_ready():
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "unavailable", "detail": DATABASE_DOWN_MESSAGE}, 503)

    app.state.session_store = PostgresSessionStore(database)
    mount_console(
        app,
        database,
        app.state.security,
        settings.zone,
        settings.company_currency,
        settings.digest_hours,
    )
    # Added innermost first: headers wrap everything, the session wraps the CSRF check.
    app.add_middleware(AllowedMethodsMiddleware, openapi=lambda: app.openapi())
    app.add_middleware(
        CsrfMiddleware,
        applies=is_browser_path,
        secret_key=secret_key,
        https_only=settings.https,
        takes_files=takes_files,
    )
    app.add_middleware(
        ServerSessionMiddleware,
        store=app.state.session_store,
        https_only=settings.https,
        applies=is_browser_path,
    )
    app.add_middleware(StrictJsonMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes_for=body_limits(settings))
    app.add_middleware(SecurityHeadersMiddleware, is_static=is_static_path)
    app.add_middleware(DatabaseOutageMiddleware)
    app.add_middleware(RelativeRedirectMiddleware)
    app.add_middleware(
        TrustedHostsMiddleware,
        allowed_hosts=settings.trusted_hosts,
        exempt=lambda path: path in HEALTH_PATHS,
    )
    app.add_middleware(RequestIdMiddleware)
    if settings.cors_origins:
        # Bearer tokens, not cookies, authorise the API: no credentials cross origins.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )
    install_error_handlers(app, render_error)
    install_redirects(app)
    return app
