"""The async engine, the per-request session that owns the transaction, and health checks."""

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    RowMapping,
    Select,
    SQLColumnExpression,
    any_,
    bindparam,
    event,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from contoso.config import Settings
from contoso.errors import BUSY_MESSAGE, BUSY_RETRY_SECONDS, Busy

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    # Same pool, autocommit: a read needs no BEGIN and COMMIT round trips.
    read_sessionmaker: async_sessionmaker[AsyncSession]
    # Requests that may hold a connection at once: no more than the pool keeps open.
    admission_limit: int
    admission_timeout: float
    _admission: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_admission", asyncio.Semaphore(self.admission_limit))

    @asynccontextmanager
    async def admitted(self) -> AsyncIterator["Turn"]:
        """Wait for a turn to use the database, first come first served.

        SQLAlchemy's async pool does not serve waiters in order (a newcomer can take a
        returned connection before a request that was waiting), which gave the busiest
        endpoint a long tail. asyncio's semaphore queues in order; requests admitted
        here then find a pooled connection free. A wait longer than the connection
        timeout is Busy, answered as 503 with Retry-After.
        """
        turn = Turn(self)
        await turn.take()
        try:
            yield turn
        finally:
            turn.give_back()

    async def is_ready(self) -> bool:
        """True if a trivial query answers now."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


# Where a request's session keeps its Turn (Session.info).
TURN = "contoso.turn"


class Turn:
    """One request's turn at the database: taken on admission, given back at its end,
    and given back for a while in between by `released`."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._held = False

    async def take(self) -> None:
        admission = self._database._admission
        try:
            async with asyncio.timeout(self._database.admission_timeout):
                await admission.acquire()
        except TimeoutError:
            logger.warning(
                "database connections exhausted: no turn came free in %.0f s",
                self._database.admission_timeout,
            )
            raise Busy(BUSY_MESSAGE, retry_after=BUSY_RETRY_SECONDS) from None
        self._held = True

    def give_back(self) -> None:
        if self._held:
            self._held = False
            self._database._admission.release()


@asynccontextmanager
async def released(session: AsyncSession) -> AsyncIterator[None]:
    """Give back the request's connection and its turn at the database while a slow
    step that needs neither runs (an upload being decoded), then wait for a turn again:
    one slow client must not hold what every other request waits for.

    The request's transaction is committed first: call this before anything is
    written, after the checks that can refuse early.
    """
    turn: Turn | None = session.info.get(TURN)
    await session.commit()
    if turn is None:
        yield
        return
    turn.give_back()
    yield
    await turn.take()


def create_database(settings: Settings) -> Database:
    if not settings.database_url:
        raise RuntimeError("resolve the database URL before creating the engine")
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_timeout,
        # A connection killed by a database restart is replaced, not handed out.
        pool_pre_ping=True,
        connect_args={
            "timeout": settings.db_timeout,
            "server_settings": {"application_name": "contoso"},
        },
    )
    event.listen(engine.sync_engine, "connect", _numeric_as_written)
    # expire_on_commit=False: responses are built from objects after the commit.
    return Database(
        engine,
        async_sessionmaker(engine, expire_on_commit=False),
        async_sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        ),
        # The steady pool serves requests; the overflow is headroom for the console's
        # and the session store's own connections.
        admission_limit=settings.db_pool_size,
        admission_timeout=settings.db_timeout,
    )


def _numeric_as_written(dbapi_connection: Any, _record: Any) -> None:
    """Read NUMERIC as PostgreSQL writes it. asyncpg's binary decoding gives a value
    without decimals that ends in four zeros an exponent (10000 as Decimal("1E+4")),
    which the API and the exports would then show: JPY 10000 as "1E+4"."""
    dbapi_connection.run_async(
        lambda connection: connection.set_type_codec(
            "numeric", schema="pg_catalog", encoder=str, decoder=Decimal, format="text"
        )
    )


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: commit if the handler succeeded, else roll back.

    GET and HEAD change nothing (a rule of this app), so they read in autocommit
    mode: each statement sees its own snapshot, and two round trips are saved.
    """
    database: Database = request.app.state.database
    async with database.admitted() as turn:
        if request.method in ("GET", "HEAD"):
            async with database.read_sessionmaker() as session:
                yield session
            return
        async with database.sessionmaker(info={TURN: turn}) as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            await session.commit()


# scope="function": commit before the response is sent, so a 2xx means it is stored.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def column_rows(
    session: AsyncSession, statement: Select[Any], parameters: dict[str, Any] | None = None
) -> Sequence[RowMapping]:
    """The rows of a statement that selects columns, not entities, executed as Core on
    the session's connection (same transaction): the ORM's result machinery has nothing
    to do for such rows, and skipping it is a fifth of the busiest request's database
    time."""
    connection = await session.connection()
    rows: Sequence[RowMapping] = (await connection.execute(statement, parameters)).mappings().all()
    return rows


def any_of(
    column: SQLColumnExpression[int], ids: Sequence[int], name: str = "ids"
) -> ColumnElement[bool]:
    """`column = ANY(:ids)`: one array parameter however many ids (bulk actions send 10,000)."""
    return column == any_(bindparam(name, list(ids), type_=ARRAY(BigInteger)))


class _Explain(Executable, ClauseElement):
    """`EXPLAIN (FORMAT JSON) <statement>`, with the statement's values sent as bound
    parameters (PostgreSQL plans a parameterised EXPLAIN like the statement itself):
    a search term is never SQL text, not even escaped."""

    # Compiled on each use, as a literal rendering was: a cached EXPLAIN would reuse the
    # inner statement's result columns for a result that has one, the plan.
    inherit_cache = False

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement


@compiles(_Explain, "postgresql")
def _compile_explain(explain: _Explain, compiler: SQLCompiler, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(explain.statement, **kw)


async def estimated_count(
    session: AsyncSession, rows: Select[Any], exact_below: int
) -> tuple[int, bool]:
    """(count, is_estimate) for the rows `rows` selects: the planner's estimate when it
    is at least `exact_below`, else an exact count."""
    raw = await session.scalar(_Explain(rows))
    plan = json.loads(raw) if isinstance(raw, str) else raw
    estimate = int(plan[0]["Plan"]["Plan Rows"])
    if estimate >= exact_below:
        return estimate, True
    exact = select(func.count()).select_from(rows.order_by(None).subquery())
    return await session.scalar(exact) or 0, False
