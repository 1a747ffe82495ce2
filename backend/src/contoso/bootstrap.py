"""What runs before the app takes requests: find the database, migrate it."""

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from contoso.config import Settings
from contoso.embedded import (
    DATABASE_NAME,
    ensure_database,
    start_embedded_server,
    to_asyncpg_url,
    with_database,
)
from contoso.errors import is_connection_failure

logger = logging.getLogger(__name__)

BACKEND_DIR = Path(__file__).resolve().parents[2]


def resolve_database_url(settings: Settings, *, keep_running: bool = False) -> str:
    """The configured DATABASE_URL, or the embedded server's (started if needed)."""
    if settings.database_url:
        return settings.database_url
    admin_url = start_embedded_server(settings.data_dir, keep_running=keep_running)
    asyncio.run(ensure_database(admin_url, DATABASE_NAME))
    return to_asyncpg_url(with_database(admin_url, DATABASE_NAME))


def alembic_config(database_url: str) -> Config:
    config = Config(str(BACKEND_DIR / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    return config


def migrate(database_url: str, revision: str = "head") -> None:
    """Upgrade the database to `revision`. Blocking: run it off the event loop."""
    command.upgrade(alembic_config(database_url), revision)


def prepare(settings: Settings) -> Settings:
    """Settings with a database URL (migrated to head) and a secret, ready to serve."""
    url = resolve_database_url(settings)
    migrate(url)
    return settings.model_copy(update={"database_url": url}).with_secret()


def prepare_to_serve(settings: Settings) -> tuple[Settings, bool]:
    """Like `prepare`, but a database that cannot be reached yet is not fatal.

    Returns the settings and whether the migrations ran; if not, the app runs
    them once the database answers (see `migrate_when_reachable`).
    """
    url = resolve_database_url(settings)
    ready = settings.model_copy(update={"database_url": url}).with_secret()
    try:
        migrate(url)
    except Exception as exc:
        if not is_connection_failure(exc):
            raise
        logger.error(
            "contoso: cannot reach the database at %s (%s). Serving anyway: /readyz "
            "answers 503 until it is reachable, and the migrations run then.",
            make_url(url).render_as_string(hide_password=True),
            _reason(exc),
        )
        return ready, False
    return ready, True


def _reason(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return f"{exc.__class__.__name__}: {exc}"


async def migrate_when_reachable(database_url: str, on_done: Callable[[], None]) -> None:
    """Retry the migrations every few seconds until they succeed, then call `on_done`."""
    while True:
        try:
            await asyncio.to_thread(migrate, database_url)
        except Exception as exc:
            if not is_connection_failure(exc):
                logger.exception("migrations failed")
                raise
            await asyncio.sleep(2)
            continue
        logger.info("database reachable: migrations applied")
        on_done()
        return
