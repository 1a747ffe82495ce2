"""Server-side sessions: starlette-session's middleware with a PostgreSQL store.

starlette-session 0.4.3 has four defects this module closes (each has a test):
- a custom backend is ignored unless a non-cookie `backend_type` is also given,
  and the session data would then travel in the cookie;
- a garbage or unsigned cookie raises (a 500) instead of meaning "no session";
- a session id missing from the store yields `request.session = None` (a 500);
- the session id is never rotated at login (fixation): see `rotate_session`.
"""

import hashlib
import json
import logging
from base64 import b64decode
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from itsdangerous import BadSignature
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.dialects.postgresql import insert
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette_session import SessionMiddleware
from starlette_session.backends import BackendType
from starlette_session.interfaces import ISessionBackend

from contoso.database import Database
from contoso.models import WebSession

logger = logging.getLogger(__name__)

COOKIE_NAME = "contoso_session"
SESSION_LIFETIME = timedelta(hours=8)
SESSION_SWEEP_INTERVAL = timedelta(minutes=10)
# Where starlette-session keeps the id of the session loaded for this request.
_SESSION_KEY = "__session_key"
_COOKIE_ID_FIELD = "_cssid"
_STORE = "contoso.session_store"


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


# starlette-session ships no types, so its base classes are Any to mypy.
class PostgresSessionStore(ISessionBackend):  # type: ignore[misc]
    """Sessions in the app's own database, so any app process can serve any session."""

    def __init__(self, database: Database) -> None:
        self._sessionmaker = database.sessionmaker

    async def get(self, key: str | None) -> dict[str, Any]:
        # An unknown or expired id is an empty session, never None.
        if not key:
            return {}
        async with self._sessionmaker() as session:
            data = await session.scalar(
                select(WebSession.data).where(
                    WebSession.id_hash == _hash(key), WebSession.expires_at > datetime.now(UTC)
                )
            )
        return dict(data) if data else {}

    async def set(self, key: str, value: dict[str, Any], exp: int | None) -> None:
        expires_at = datetime.now(UTC) + timedelta(seconds=exp or SESSION_LIFETIME.total_seconds())
        statement = insert(WebSession).values(id_hash=_hash(key), data=value, expires_at=expires_at)
        async with self._sessionmaker.begin() as session:
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=[WebSession.id_hash],
                    set_={"data": statement.excluded.data, "expires_at": expires_at},
                )
            )

    async def delete(self, key: str | None) -> None:
        if not key:
            return
        async with self._sessionmaker.begin() as session:
            await session.execute(delete(WebSession).where(WebSession.id_hash == _hash(key)))

    async def purge_expired(self) -> int:
        """Delete expired sessions; returns how many went."""
        async with self._sessionmaker.begin() as session:
            # A DML statement's result is a CursorResult (the one with rowcount), which
            # AsyncSession.execute's signature does not say.
            result = cast(
                CursorResult[Any],
                await session.execute(
                    delete(WebSession).where(WebSession.expires_at <= datetime.now(UTC))
                ),
            )
        return result.rowcount


# Untyped base class, as for PostgresSessionStore.
class ServerSessionMiddleware(SessionMiddleware):  # type: ignore[misc]
    """starlette-session's middleware, storing sessions server-side and tolerating bad cookies."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: PostgresSessionStore,
        secret_key: str,
        https_only: bool,
        applies: Callable[[str], bool],
    ) -> None:
        # Only the browser pages use sessions: the API (bearer tokens) and static
        # files are served without a session read or write.
        self.applies = applies
        super().__init__(
            app,
            secret_key=secret_key,
            cookie_name=COOKIE_NAME,
            max_age=int(SESSION_LIFETIME.total_seconds()),
            same_site="strict",
            https_only=https_only,
            custom_session_backend=store,
        )
        # The library reads "cookie mode" from backend_type alone and would put
        # the whole session in the cookie; any other value makes it use `store`.
        self.backend_type = BackendType.redis

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.applies(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http":
            _drop_cookie_unless(scope, self._is_valid_cookie)
            # Mounted apps (the console) have their own `request.app`; the scope reaches all.
            scope[_STORE] = self.session_backend
        await super().__call__(scope, receive, send)

    def _is_valid_cookie(self, value: str) -> bool:
        try:
            payload = json.loads(b64decode(self.signer.unsign(value, max_age=self.max_age)))
        except (BadSignature, ValueError, TypeError):
            return False
        return isinstance(payload, dict) and isinstance(payload.get(_COOKIE_ID_FIELD), str)


def _drop_cookie_unless(scope: Scope, is_valid: Any) -> None:
    """Remove our cookie from the request if it fails `is_valid`, so it reads as no session."""
    cookies = HTTPConnection(scope).cookies
    value = cookies.get(COOKIE_NAME)
    if value is None or is_valid(value):
        return
    kept = "; ".join(f"{name}={val}" for name, val in cookies.items() if name != COOKIE_NAME)
    headers = [(k, v) for k, v in scope["headers"] if k != b"cookie"]
    if kept:
        headers.append((b"cookie", kept.encode("latin-1")))
    scope["headers"] = headers


async def rotate_session(request: Request) -> None:
    """Give this session a new id at login and delete the old one server-side.

    The middleware assigns a fresh random id when the response starts, so a
    session id planted before login (fixation) is worthless after it.
    """
    old_key = request.scope.pop(_SESSION_KEY, None)
    request.session.clear()
    if old_key:
        await _store(request).delete(old_key)


async def end_session(request: Request) -> None:
    """Log out: delete the session server-side and clear the cookie."""
    key = request.scope.get(_SESSION_KEY)
    request.session.clear()
    if key:
        await _store(request).delete(key)


def _store(request: Request) -> PostgresSessionStore:
    """The session store the middleware put in this request's scope."""
    store: PostgresSessionStore = request.scope[_STORE]
    return store
