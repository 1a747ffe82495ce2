"""The migrations build the schema the models describe, and undo it cleanly."""

import asyncio

import asyncpg
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from contoso.bootstrap import alembic_config, migrate
from contoso.models import Base
from tests.support.databases import plain_url, recreate_database
from tests.support.totals import Totals, stored_and_recounted

SCRATCH = "contoso_migration_check"


def test_upgrade_downgrade_upgrade_round_trips(database_url):
    scratch = asyncio.run(recreate_database(database_url, SCRATCH))

    migrate(scratch)
    command.downgrade(alembic_config(scratch), "base")
    migrate(scratch)

    assert asyncio.run(_drift(scratch)) == []


async def _drift(url: str) -> list:
    """What autogenerate would change: empty when migrations and models agree."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await engine.dispose()


def test_the_history_table_refuses_updates_and_deletes(database_url):
    async def attempt() -> list[str]:
        connection = await asyncpg.connect(plain_url(database_url))
        errors = []
        try:
            user = await connection.fetchval(
                "INSERT INTO users (email, username, password_hash, role) "
                "VALUES ('h@example.com', 'h', 'x', 'employer') RETURNING id"
            )
            await connection.execute(
                "INSERT INTO events (kind, actor_id, subject_id) "
                "VALUES ('employee_suspended', $1, $1)",
                user,
            )
            for statement in ("UPDATE events SET note = 'rewritten'", "DELETE FROM events"):
                try:
                    await connection.execute(statement)
                except asyncpg.RaiseError as exc:
                    errors.append(str(exc))
        finally:
            await connection.execute("TRUNCATE events, tickets, users RESTART IDENTITY CASCADE")
            await connection.close()
        return errors

    errors = asyncio.run(attempt())

    assert errors == ["the ticket and employee history is append-only"] * 2


# The head before the dashboard's totals, and the revision that adds and fills them.
BEFORE_TOTALS, TOTALS = "88466338fe01", "fdc3663cbb6a"


def test_the_totals_migration_counts_the_tickets_already_there(database_url):
    scratch = asyncio.run(recreate_database(database_url, SCRATCH))
    migrate(scratch, BEFORE_TOTALS)
    asyncio.run(_tickets_of_every_kind(scratch))

    migrate(scratch, TOTALS)

    stored, recounted = asyncio.run(_stored_and_recounted(scratch))
    assert stored == recounted
    # Something was counted: pending tickets, and decided ones of visible employees.
    assert len(stored["pending"]) == 6
    assert {status for _, status in stored["decided"]} == {"approved", "denied"}


async def _tickets_of_every_kind(url: str) -> None:
    """Tickets as the previous version stored them: three employees (one suspended), each
    with pending, approved and denied tickets over two months, decided in two months."""
    connection = await asyncpg.connect(plain_url(url))
    try:
        boss = await connection.fetchval(
            "INSERT INTO users (email, username, password_hash, role) "
            "VALUES ('boss@example.com', 'Boss', 'x', 'employer') RETURNING id"
        )
        await connection.execute("""
            INSERT INTO users (email, username, password_hash, role, suspended, suspended_at)
            SELECT 'e' || n || '@example.com', 'E' || n, 'x', 'employee', n = 3,
                   CASE WHEN n = 3 THEN now() END
            FROM generate_series(1, 3) n
            """)
        # Bought either side of a month's end, decided either side of another (UTC).
        await connection.execute(
            """
            INSERT INTO tickets (owner_id, spent_on, amount, description, status,
                                 decided_by_id, decided_at)
            SELECT u.id, DATE '2026-01-31' + (n % 2) * 2, 10.25 * n, 'Lunch', s::ticket_status,
                   CASE WHEN s <> 'pending' THEN $1::bigint END,
                   CASE WHEN s <> 'pending'
                        THEN TIMESTAMPTZ '2026-02-28 23:30:00+00' + n * INTERVAL '10 minutes'
                   END
            FROM users u, generate_series(1, 4) n,
                 unnest(ARRAY['pending', 'approved', 'denied']) s
            WHERE u.role = 'employee'
            """,
            boss,
        )
    finally:
        await connection.close()


async def _stored_and_recounted(url: str) -> tuple[Totals, Totals]:
    connection = await asyncpg.connect(plain_url(url))
    try:
        return await stored_and_recounted(connection)
    finally:
        await connection.close()
