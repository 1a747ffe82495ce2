"""Server-side sessions: starsessions' middleware with a PostgreSQL store.

The cookie holds only the session's random id; the data lives in the `sessions` table
under the id's SHA-256. A session is loaded before each browser request, and an id
the store does not know (made up, planted, expired or logged out) is never adopted:
a session that starts on such a request gets a fresh id.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.dialects.postgresql import insert
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Receive, Scope, Send
from starsessions import (
    SessionMiddleware,
    SessionStore,
    get_session_id,
    load_session,
    regenerate_session_id,
)

from contoso.database import Database
from contoso.models import WebSession

COOKIE_NAME = "contoso_session"
# Idle lifetime: each request with a session moves its expiry (rolling).
SESSION_LIFETIME = timedelta(hours=8)
SESSION_SWEEP_INTERVAL = timedelta(minutes=10)
_STORE = "contoso.session_store"


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class PostgresSessionStore(SessionStore):
    """Sessions in the app's own database, so any app process can serve any session."""

    def __init__(self, database: Database) -> None:
        self._sessionmaker = database.sessionmaker

    async def read(self, session_id: str, lifetime: int) -> bytes:
        # An unknown or expired id reads as no data: an empty session.
        async with self._sessionmaker() as session:
            data = await session.scalar(
                select(WebSession.data).where(
                    WebSession.id_hash == _hash(session_id),
                    WebSession.expires_at > datetime.now(UTC),
                )
            )
        return json.dumps(data).encode() if data else b""

    async def write(self, session_id: str, data: bytes, lifetime: int, ttl: int) -> str:
        expires_at = datetime.now(UTC) + timedelta(seconds=ttl)
        statement = insert(WebSession).values(
            id_hash=_hash(session_id), data=json.loads(data), expires_at=expires_at
        )
        async with self._sessionmaker.begin() as session:
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=[WebSession.id_hash],
                    set_={"data": statement.excluded.data, "expires_at": expires_at},
                )
            )
        return session_id

    async def remove(self, session_id: str) -> None:
        async with self._sessionmaker.begin() as session:
            await session.execute(delete(WebSession).where(WebSession.id_hash == _hash(session_id)))

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


class ServerSessionMiddleware:
    """starsessions' middleware on the paths for which `applies` is true, with the
    session loaded before the app runs.

    The cookie is HttpOnly, SameSite=Strict, for Path=/, Secure with `https_only`.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: PostgresSessionStore,
        https_only: bool,
        applies: Callable[[str], bool],
    ) -> None:
        self.app = app
        # Only the browser pages use sessions: the API (bearer tokens) and static
        # files are served without a session read or write.
        self.applies = applies
        self.store = store
        self._sessions = SessionMiddleware(
            self._with_session_loaded,
            store=store,
            lifetime=SESSION_LIFETIME,
            rolling=True,
            cookie_name=COOKIE_NAME,
            cookie_same_site="strict",
            cookie_https_only=https_only,
            cookie_path="/",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.applies(scope["path"]):
            await self.app(scope, receive, send)
            return
        await self._sessions(scope, receive, send)

    async def _with_session_loaded(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection = HTTPConnection(scope)
        await load_session(connection)
        if get_session_id(connection) is not None and not connection.session:
            # starsessions would save new data under the cookie's id, which the
            # store does not know: one chosen by whoever set the cookie (fixation).
            regenerate_session_id(connection)
        # Mounted apps (the console) have their own `request.app`; the scope reaches all.
        scope[_STORE] = self.store
        await self.app(scope, receive, send)


async def rotate_session(request: Request) -> None:
    """Give this session a new id at login and delete the old one server-side, so a
    session id planted or read before login (fixation) is worthless after it."""
    old_id = get_session_id(request)
    request.session.clear()
    regenerate_session_id(request)
    if old_id is not None:
        await _store(request).remove(old_id)


def end_session(request: Request) -> None:
    """Log out: the session, emptied, is deleted server-side and its cookie cleared
    when the response starts (starsessions' handling of an emptied session)."""
    request.session.clear()


def _store(request: Request) -> PostgresSessionStore:
    """The session store the middleware put in this request's scope."""
    store: PostgresSessionStore = request.scope[_STORE]
    return store
