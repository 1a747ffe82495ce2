"""A real PostgreSQL for every test: the embedded server, or TEST_DATABASE_URL if set.

The schema is built once with Alembic (the same migrations production runs).
Tests commit for real (the races need separate connections), so each test
starts from empty tables instead of a rolled-back transaction.
"""

import asyncio
import json
import os
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr
from sqlalchemy import text

from contoso.bootstrap import migrate
from contoso.config import Environment, Settings
from contoso.embedded import ensure_database, start_embedded_server, with_database
from contoso.main import create_app
from contoso.models import Base
from tests.support.databases import plain_url
from tests.support.factories import Factory

TEST_DATABASE = "contoso_test"
BACKEND_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def database_url() -> str:
    """An asyncpg URL to an empty database migrated to head."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        url = Settings(database_url=configured, _env_file=None).database_url
        assert url is not None
    else:
        admin = start_embedded_server(BACKEND_DIR / ".data" / "test")
        asyncio.run(ensure_database(admin, TEST_DATABASE))
        url = "postgresql+asyncpg://" + with_database(admin, TEST_DATABASE).split("://", 1)[1]
    asyncio.run(_reset_schema(plain_url(url)))
    migrate(url)
    return url


async def _reset_schema(url: str) -> None:
    # This database belongs to the tests: start from nothing, as a fresh deployment does.
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        environment=Environment.TEST,
        database_url=database_url,
        secret_key=SecretStr("test-only-signing-key-with-enough-bytes-0123456789"),
        # The cheapest bcrypt cost: tests check behaviour, not hashing strength.
        password_hash_rounds=4,
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator:
    application = create_app(settings)
    yield application
    application.state.receipt_cleaner.close()
    await application.state.database.dispose()


# Every table of the models (the migrations make no other: test_migrations checks)
# but the two whose rows the migrations make, which are set back below instead: a new
# table is emptied without being named here. No CASCADE: should a kept table come to
# refer to an emptied one, this fails instead of emptying it.
_KEPT_TABLES = {"categories", "company"}
_TRUNCATE_ALL = text(
    "TRUNCATE "
    + ", ".join(
        table.name for table in Base.metadata.sorted_tables if table.name not in _KEPT_TABLES
    )
    + " RESTART IDENTITY"
)


@pytest.fixture(autouse=True)
async def _empty_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    async with application.state.database.engine.begin() as connection:
        await connection.execute(_TRUNCATE_ALL)
        # The migration's default category stays, as it was made.
        await connection.execute(text("DELETE FROM categories WHERE NOT is_default"))
        await connection.execute(
            text(
                "UPDATE categories SET name = 'General', active = true, max_amount = NULL,"
                " receipt_required_above = NULL WHERE is_default"
            )
        )
        # The company row stays too, its digest never sent.
        await connection.execute(text("UPDATE company SET last_digest_at = NULL"))
    await application.state.security.throttle.reset()


@pytest.fixture
async def client(app) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        yield http


@pytest.fixture
def factory(client: AsyncClient) -> Factory:
    return Factory(client)


@pytest.fixture
def anyio_backend() -> Iterator[str]:
    yield "asyncio"


# Figures for docs/reliability.md: each group records what it tried and what held.
ARTIFACT = BACKEND_DIR / "test-artifacts" / "reliability.json"


class Figures:
    def __init__(self) -> None:
        self.groups: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, group: str, **counts: int) -> None:
        for name, value in counts.items():
            self.groups[group][name] += value


@pytest.fixture(scope="session")
def figures():
    collected = Figures()
    yield collected
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(collected.groups, indent=2, sort_keys=True))
