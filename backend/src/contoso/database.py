"""The async engine, the per-request session that owns the transaction, and health checks."""

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import BigInteger, ColumnElement, Select, any_, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from contoso.config import Settings


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]

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
    # expire_on_commit=False: responses are built from objects after the commit.
    return Database(engine, async_sessionmaker(engine, expire_on_commit=False))


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: commit if the handler succeeded, else roll back."""
    database: Database = request.app.state.database
    async with database.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


# scope="function": commit before the response is sent, so a 2xx means it is stored.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def among(column: ColumnElement[int], ids: Sequence[int], name: str = "ids") -> ColumnElement[bool]:
    """`column = ANY(:ids)`: one array parameter however many ids (bulk actions send 10,000)."""
    return column == any_(bindparam(name, list(ids), type_=ARRAY(BigInteger)))


async def estimated_count(
    session: AsyncSession, count: Select[tuple[int]], exact_below: int
) -> tuple[int, bool]:
    """(rows, is_estimate) for a `SELECT count(*) ...`: the planner's estimate of the
    counted rows when it is at least `exact_below`, else the exact count."""
    # Our own statement; its parameters are ids, enums and flags, rendered as literals.
    sql = count.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    raw = await session.scalar(text(f"EXPLAIN (FORMAT JSON) {sql}"))
    plan = json.loads(raw) if isinstance(raw, str) else raw
    aggregate = plan[0]["Plan"]
    estimate = int(aggregate["Plans"][0]["Plan Rows"] if "Plans" in aggregate else 0)
    if estimate >= exact_below:
        return estimate, True
    return await session.scalar(count) or 0, False
