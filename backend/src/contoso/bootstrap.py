"""What runs before the app takes requests: find the database, migrate it."""

import asyncio
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config

from contoso.config import Settings
from contoso.embedded import (
    DATABASE_NAME,
    ensure_database,
    start_embedded_server,
    to_asyncpg_url,
    with_database,
)

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
