"""Domain errors. Services raise them; `install_error_handlers` maps them to HTTP once."""

import logging
from typing import Any, ClassVar

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

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


class BadRequest(ContosoError):
    status_code = 400


class Unauthorized(ContosoError):
    status_code = 401
    headers: ClassVar[dict[str, str] | None] = {"WWW-Authenticate": "Bearer"}


class Forbidden(ContosoError):
    status_code = 403


class NotFound(ContosoError):
    status_code = 404


class Conflict(ContosoError):
    status_code = 409


class TooManyAttempts(ContosoError):
    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def response_headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)}


DATABASE_DOWN_MESSAGE = "The database is unavailable right now; please retry shortly."


# What a database that is down, restarting or unreachable raises, wrapped or not.
_CONNECTION_ERRORS = (
    OSError,  # refused, reset, no socket file; also ConnectionError, TimeoutError
    PoolTimeoutError,
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
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ContosoError)
    async def _domain_error(request: Request, exc: ContosoError) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.message}, status_code=exc.status_code, headers=exc.response_headers()
        )

    async def _database_error(request: Request, exc: Exception) -> JSONResponse:
        if not is_connection_failure(exc):
            raise exc
        logger.warning("database unreachable: %s", exc.__class__.__name__)
        return JSONResponse(
            {"detail": DATABASE_DOWN_MESSAGE},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    for exc_class in (DBAPIError, PoolTimeoutError, OSError):
        app.add_exception_handler(exc_class, _database_error)


class ErrorBody(BaseModel):
    """Every error answer: a message a person can act on."""

    detail: str


_DESCRIPTIONS = {
    400: "The request cannot be processed as sent",
    401: "Missing, expired or revoked token",
    403: "Not allowed for your role, or the account is suspended",
    404: "No such record, or not yours to see",
    409: "The record is no longer in a state that allows this",
    413: "The request body is too large",
    429: "Too many failed attempts; see Retry-After",
    503: "The database is unavailable; retry shortly",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, all with the {"detail": ...} body."""
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}
