"""Proving a lock in a race test: wait until the racing statement is seen waiting for it,
never for a fixed time (too short fails a loaded machine, and a test that only checks
"not finished yet" passes without the lock whenever the statement is merely slow)."""

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

# Seconds for the racing statement to start and queue for the lock: ample on a loaded
# machine, since it returns as soon as the wait is seen.
PATIENCE = 10.0
# Whether a backend waits for a lock that backend :holder holds and, when :table is
# given, for a row of that table: PostgreSQL queues a statement for a locked row by
# taking (or awaiting) the row's tuple lock, whatever transaction it then waits on.
_WAITING_BEHIND = text(
    "SELECT EXISTS (SELECT FROM pg_stat_activity waiting"
    " WHERE waiting.wait_event_type = 'Lock'"
    " AND CAST(:holder AS integer) = ANY(pg_blocking_pids(waiting.pid))"
    " AND (CAST(:table AS text) IS NULL OR EXISTS (SELECT FROM pg_locks"
    " WHERE pg_locks.pid = waiting.pid AND locktype = 'tuple'"
    " AND relation = CAST(CAST(:table AS text) AS regclass))))"
)


async def blocked_behind(
    holder: AsyncSession, waiter: asyncio.Task[Any], *, row_of: str | None = None
) -> None:
    """Return once a statement waits for a lock that `holder`'s open transaction holds
    (PostgreSQL's `pg_blocking_pids`), for a row of table `row_of` when given, while
    `waiter`, the task that runs it, is still running. Fails the test when `waiter`
    finishes first (its statement did not wait: the lock is missing) or when nothing
    waits so within PATIENCE seconds (it waits for something else)."""
    holder_pid = await holder.scalar(text("SELECT pg_backend_pid()"))
    engine = holder.bind
    assert isinstance(engine, AsyncEngine)
    deadline = time.monotonic() + PATIENCE
    async with engine.connect() as watching:
        # Autocommit: each look reads pg_stat_activity afresh, whereas a transaction
        # keeps the snapshot of it taken by its first read.
        await watching.execution_options(isolation_level="AUTOCOMMIT")
        while not await watching.scalar(_WAITING_BEHIND, {"holder": holder_pid, "table": row_of}):
            if waiter.done():
                failure = waiter.exception()
                pytest.fail(
                    "the racing statement finished without waiting for the lock held by"
                    f" backend {holder_pid}" + (f" (it raised {failure!r})" if failure else "")
                )
            if time.monotonic() > deadline:
                # Let the waiting statement go on and finish: the test then fails, instead
                # of hanging as it closes a session that still runs a statement.
                await holder.rollback()
                await asyncio.wait([waiter], timeout=PATIENCE)
                pytest.fail(
                    f"in {PATIENCE} s the racing statement neither finished nor waited for"
                    f" a lock held by backend {holder_pid}"
                    + (f" on a row of {row_of}" if row_of else "")
                    + ": it waits for something else"
                )
            await asyncio.sleep(0.01)
