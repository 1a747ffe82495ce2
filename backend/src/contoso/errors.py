"""Domain errors. Services raise them; `install_error_handlers` maps them to HTTP once."""

import logging
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import asyncpg
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from contoso.validation import NO_NUL_TEXT, UNICODE_TEXT_ONLY, unreadable

logger = logging.getLogger(__name__)


class ContosoError(Exception):
    """A failure the user can act on; `message` is shown to them as is."""

    status_code = 400
    headers: ClassVar[dict[str, str] | None] = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def response_headers(self) -> dict[str, str] | None:
        return self.headers

    def api_detail(self) -> Any:
        """The API's `detail`: the message, unless the error says more."""
        return self.message


class Unauthorized(ContosoError):
    status_code = 401
    headers: ClassVar[dict[str, str] | None] = {"WWW-Authenticate": "Bearer"}


class Forbidden(ContosoError):
    status_code = 403


class NotFound(ContosoError):
    status_code = 404


class Conflict(ContosoError):
    status_code = 409


class InvitationRequired(Forbidden):
    """Registering this way needs an invitation code (EMPLOYEE_SIGNUP or
    EMPLOYER_SIGNUP is `invite`); the message says whom to ask."""


class OutsideAllowedDomains(Forbidden):
    """An address outside ALLOWED_EMAIL_DOMAINS registering without an invitation."""


class InvalidInvitation(Forbidden):
    """An invitation code that is wrong, used, expired, revoked, or for another email
    or role: the message says to ask for a new one."""


class InvalidResetLink(ContosoError):
    """A password reset token that is unknown, malformed, used, expired or superseded by
    a newer request: 400, the message saying to ask for a new link."""


class SignInFailed(ContosoError):
    """A single sign-on that did not complete: a callback without the sign-in this browser
    started (stale, replayed, or another browser's), or an answer from the identity
    provider that fails a check. The message says to start again."""


class ProviderUnavailable(ContosoError):
    """The identity provider could not be reached, or answered with an error of its own."""

    status_code = 502


class WrongPassword(Forbidden):
    """The current password, asked before setting a new one, is not right."""


class AlreadyRegistered(Conflict):
    """An invitation for an address that already has an account."""


class AlreadyInvited(Conflict):
    """An invitation for an address whose invitation is still open: resend that one."""


class InvalidField(ContosoError):
    """A well-formed value the data refuses (an unknown category): 422, shaped as the
    API's other validation errors so a client reads them one way."""

    status_code = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field

    def api_detail(self) -> Any:
        return [{"type": "value_error", "loc": ["body", self.field], "msg": self.message}]


class TooLarge(ContosoError):
    status_code = 413


class UnsupportedMediaType(ContosoError):
    status_code = 415


class UnprocessableFile(ContosoError):
    """A file of an accepted type that cannot be processed within the limits (a JPEG
    with thousands of scans, an image that needs too much time or memory to decode):
    422, shaped as the API's validation errors, on the upload's `file` field."""

    status_code = 422

    def api_detail(self) -> Any:
        return [{"type": "value_error", "loc": ["body", "file"], "msg": self.message}]


class RetryLater(ContosoError):
    """A refusal that passes: the answer says, in Retry-After, when to ask again."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def response_headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)}


class TooManyAttempts(RetryLater):
    status_code = 429


class TooManyUploads(RetryLater):
    status_code = 429


class Busy(RetryLater):
    """Every database connection this process may use is taken, and none came free in
    time: the database is fine, the process is at capacity."""

    status_code = 503


DATABASE_DOWN_MESSAGE = "The database is unavailable right now; please retry shortly."
BUSY_MESSAGE = "The service is busy right now; please retry in a few seconds."
BUSY_RETRY_SECONDS = 2


# What a database that is down, restarting or unreachable raises, wrapped or not.
# (SQLAlchemy's pool timeout is not among them: every connection is in use, which is
# being busy, and is answered as such.)
_CONNECTION_ERRORS = (
    OSError,  # refused, reset, no socket file; also ConnectionError, TimeoutError
    asyncpg.exceptions.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.exceptions.OperatorInterventionError,  # 57: shutdown, crash, starting up
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InternalClientError,
)


def is_connection_failure(exc: BaseException) -> bool:
    """True when `exc` means the database could not be reached (not a bad query)."""
    seen: BaseException | None = exc
    for _ in range(6):  # SQLAlchemy wraps the driver's error a few levels deep
        if seen is None:
            return False
        if isinstance(seen, _CONNECTION_ERRORS):
            return True
        # What asyncpg raises on a connection it saw the server close (SQLAlchemy's
        # asyncpg dialect reads it so too).
        if isinstance(seen, asyncpg.InterfaceError) and "connection is closed" in str(seen):
            return True
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


def unstorable_text(exc: BaseException) -> str | None:
    """What to tell the user when `exc` comes from text that no rule refused and that
    cannot be encoded (half of a surrogate pair: for the database, a password hash, a
    page) or stored (NUL); else None. Only a client's text holds such characters."""
    seen: BaseException | None = exc
    for _ in range(6):  # SQLAlchemy wraps the driver's error a few levels deep
        if seen is None:
            return None
        if isinstance(seen, UnicodeEncodeError) and seen.reason == "surrogates not allowed":
            return UNICODE_TEXT_ONLY
        if isinstance(seen, _NUL_ERRORS):
            return NO_NUL_TEXT
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None


_NUL_ERRORS = (
    asyncpg.exceptions.CharacterNotInRepertoireError,  # 22021: NUL in text
    asyncpg.exceptions.UntranslatableCharacterError,  # 22P05: \u0000 in JSON
)


# Renders an error for a browser: (request, status, message, headers) -> an HTML page.
PageRenderer = Callable[[Request, int, str, Mapping[str, str] | None], Response]

# Answered in JSON; every other path is a page for a person, and errors there are pages too.
API_PATHS = ("/api/", "/docs", "/openapi.json", "/healthz", "/readyz")


def install_error_handlers(app: FastAPI, render_page: PageRenderer) -> None:
    """Map errors to responses once, for every door: a domain error carries its own
    status and headers, answered as JSON on the API and as `render_page` elsewhere."""

    def answer(
        request: Request,
        status_code: int,
        message: str,
        headers: Mapping[str, str] | None,
        detail: Any = None,
    ) -> Response:
        if request.url.path.startswith(API_PATHS):
            body = {"detail": message if detail is None else detail}
            return JSONResponse(body, status_code, dict(headers or {}))
        return render_page(request, status_code, message, headers)

    @app.exception_handler(ContosoError)
    async def _domain_error(request: Request, exc: ContosoError) -> Response:
        headers = exc.response_headers()
        return answer(request, exc.status_code, exc.message, headers, exc.api_detail())

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith(API_PATHS):
            return await http_exception_handler(request, exc)
        message = PAGE_MESSAGES.get(exc.status_code, str(exc.detail))
        return answer(request, exc.status_code, message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith(API_PATHS):
            errors = [_readable(jsonable_encoder(error)) for error in exc.errors()]
            return JSONResponse({"detail": errors}, 422)
        return answer(request, 404, PAGE_MESSAGES[404], None)

    async def _database_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, PoolTimeoutError):
            logger.warning("database connections exhausted: %s", exc)
            headers = {"Retry-After": str(BUSY_RETRY_SECONDS)}
            return answer(request, 503, BUSY_MESSAGE, headers)
        refusal = unstorable_text(exc)
        if refusal is not None:
            return answer(request, 400, refusal, None)
        if not is_connection_failure(exc):
            raise exc
        logger.warning("database unreachable: %s", exc.__class__.__name__)
        return answer(request, 503, DATABASE_DOWN_MESSAGE, {"Retry-After": "5"})

    # asyncpg's own errors come from the statements run on its connection (`Driver`).
    driver_errors = (asyncpg.PostgresError, asyncpg.InterfaceError)
    for exc_class in (DBAPIError, PoolTimeoutError, OSError, *driver_errors):
        app.add_exception_handler(exc_class, _database_error)

    @app.exception_handler(UnicodeEncodeError)
    async def _not_unicode(request: Request, exc: UnicodeEncodeError) -> Response:
        refusal = unstorable_text(exc)
        if refusal is None:
            raise exc
        return answer(request, 400, refusal, None)


def _readable(error: dict[str, Any]) -> dict[str, Any]:
    """A validation error as the API answers it: the message as our validator wrote it
    (without Pydantic's "Value error, "), and without the input it echoes when that
    cannot be written as JSON (NaN, half of a surrogate pair), which would be a 500."""
    error["msg"] = str(error.get("msg", "")).removeprefix("Value error, ")
    reason = unreadable(error)
    if reason is None:
        return error
    loc = [part for part in error.get("loc", []) if unreadable(part) is None]
    return {"type": error.get("type", "value_error"), "loc": loc, "msg": reason}


# What a person is told when a page's address is wrong (a URL typed by hand or stale).
PAGE_MESSAGES = {
    404: "There is no such page, or it is not yours to see.",
    405: "This page cannot be used that way; go back and try again.",
}


class ErrorBody(BaseModel):
    """Every error answer: a message a person can act on."""

    detail: str


_DESCRIPTIONS = {
    400: "The request cannot be processed as sent",
    401: "Missing, expired or revoked token",
    403: "Not allowed for your role, or the account is suspended",
    404: "No such record, or not yours to see",
    409: "The record is no longer in a state that allows this",
    413: "The request body or an uploaded file is too large",
    415: "The uploaded file is not of an accepted type",
    429: "Too many attempts, or too many uploads at once; see Retry-After",
    503: "The database is unavailable, or the service is busy; see Retry-After",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, all with the {"detail": ...} body."""
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}
