"""The async engine, the per-request session that owns the transaction, and health checks."""

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, TypeVar, cast

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
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.pool import Pool, PoolProxiedConnection
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.util import greenlet_spawn

from contoso.config import Settings
from contoso.errors import BUSY_MESSAGE, BUSY_RETRY_SECONDS, Busy, is_connection_failure

logger = logging.getLogger(__name__)

T = TypeVar("T")


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

    async def read(self, work: Callable[["Driver"], Awaitable[T]]) -> T:
        """Run `work`, which only reads, on a pooled connection's own asyncpg connection,
        outside any transaction (each statement sees its own snapshot, as the GET
        sessions do). Call it with a turn taken (`admitted`).

        A connection a database restart left dead fails `work` once; it then runs again
        on a fresh connection, as a read is safe to repeat. (The pool does not ping
        connections at checkout: that cost every request a round trip.)
        """
        for attempt in (1, 2):
            # Outside the `try`: a database that cannot be reached is not retried.
            pooled = await self.engine.raw_connection()
            try:
                return await work(Driver(pooled, self.engine.sync_engine.pool))
            except Exception as exc:
                if attempt == 2 or not is_connection_failure(exc):
                    raise
                logger.info("a pooled connection was gone; reading again on a fresh one")
            finally:
                await greenlet_spawn(pooled.close)
        raise AssertionError("unreachable: the second attempt returns or raises")

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
        # No ping at checkout: it cost every request a round trip (BEGIN, a ping,
        # ROLLBACK). A connection a database restart killed fails its next statement;
        # SQLAlchemy (and `Driver`, as it does) then replaces it and every connection
        # opened before it, and `Database.read` reads again on a fresh one.
        pool_pre_ping=False,
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


_ASYNCPG = asyncpg_dialect()  # type: ignore[no-untyped-call]  # untyped constructor


@dataclass(frozen=True)
class DriverStatement:
    """A statement compiled once for asyncpg (`$n` placeholders), run by `Driver` with
    its parameters by name: for the statements nearly every request runs, which asyncpg
    prepares once per connection and SQLAlchemy's execution would cost three times."""

    sql: str
    names: tuple[str, ...]
    # The values bound when the statement was built (None for those given per call).
    bound: dict[str, Any]

    @classmethod
    def of(cls, statement: ClauseElement) -> "DriverStatement":
        compiled = cast(SQLCompiler, statement.compile(dialect=_ASYNCPG))
        return cls(str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params))

    def arguments(self, values: dict[str, Any]) -> list[Any]:
        given = self.bound | values
        # An enum member as its value: asyncpg sends text for PostgreSQL's enums.
        return [
            given[name].value if isinstance(given[name], Enum) else given[name]
            for name in self.names
        ]


class Driver:
    """asyncpg's own connection under one of the pool's, running `DriverStatement`s.

    Its failures are handled as SQLAlchemy handles its own: when the connection is
    gone, it and every connection opened before it are replaced at their next checkout
    (a database restart kills them all), and the error reaches the error handlers,
    which answer an outage with 503.
    """

    def __init__(self, pooled: PoolProxiedConnection, pool: Pool) -> None:
        self._pooled = pooled
        self._pool = pool

    @classmethod
    async def of(cls, session: AsyncSession) -> "Driver":
        """The driver under the session's connection (in its transaction, if it began one)."""
        connection = await session.connection()
        return cls(await connection.get_raw_connection(), connection.sync_engine.pool)

    async def fetchrow(self, statement: DriverStatement, **values: Any) -> Any:
        """The first row (an asyncpg Record, read by column name), or None."""
        return await self._run("fetchrow", statement, values)

    async def fetchval(self, statement: DriverStatement, **values: Any) -> Any:
        """The first column of the first row, or None."""
        return await self._run("fetchval", statement, values)

    async def _run(self, method: str, statement: DriverStatement, values: dict[str, Any]) -> Any:
        connection = self._pooled.driver_connection
        if connection is None:
            raise RuntimeError("a Driver runs nothing on a connection it invalidated")
        try:
            return await getattr(connection, method)(statement.sql, *statement.arguments(values))
        except Exception as exc:
            if is_connection_failure(exc) or connection.is_closed():
                # What SQLAlchemy's Connection does on a disconnect of its own.
                self._pool._invalidate(self._pooled, exc)
            raise


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
