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
