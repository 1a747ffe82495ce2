"""Domain errors. Services raise them; `install_error_handlers` maps them to HTTP once."""

import logging
from typing import ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
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


def is_connection_failure(exc: BaseException) -> bool:
    """True when `exc` means the database could not be reached (not a bad query)."""
    if isinstance(exc, PoolTimeoutError | OSError | ConnectionError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, InterfaceError | OperationalError) and isinstance(
        exc.orig, OSError | ConnectionError
    )


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
