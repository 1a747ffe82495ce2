"""Scratch PostgreSQL databases for the tests that need one of their own."""

import asyncio

import asyncpg
from sqlalchemy.engine import make_url

from contoso.embedded import with_database


def plain_url(url: str) -> str:
    """The libpq form of an asyncpg SQLAlchemy URL, as asyncpg.connect and psql take it."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def recreate_database(url: str, name: str) -> str:
    """Drop database `name` on the server at `url` and create it empty; returns its URL
    in the form `url` was given. A server that does not answer in 5 s raises TimeoutError."""
    connection = await asyncio.wait_for(asyncpg.connect(plain_url(url)), 5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return with_database(url, name)


def scratch_name(url: str, purpose: str) -> str:
    """A scratch database's name for `purpose`, beside the test database at `url` and
    named after it: test runs on one server, each with its own database, never drop
    each other's scratch databases."""
    return f"{make_url(url).database}_{purpose}"
