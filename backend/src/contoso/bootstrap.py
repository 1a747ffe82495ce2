"""What runs before the app takes requests: find the database, migrate it."""

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from contoso.config import Settings, get_settings
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


def alembic_config(database_url: str, company_currency: str | None = None) -> Config:
    config = Config(str(BACKEND_DIR / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    if company_currency is not None:
        config.attributes["company_currency"] = company_currency
    return config


def company_currency(config: Config) -> str:
    """The COMPANY_CURRENCY the migrations record, and check the database against."""
    return config.attributes.get("company_currency") or get_settings().company_currency


class CurrencyMismatch(RuntimeError):
    """The database's amounts are in another currency than COMPANY_CURRENCY says."""


def check_company_currency(connection: Connection, expected: str) -> None:
    """Refuse a database whose company currency is not `expected`: its totals, limits
    and payments are in the currency it was created with, and relabelling them as
    another would misstate every figure."""
    if connection.scalar(text("SELECT to_regclass('company')")) is None:
        return  # migrated to a revision before currencies
    recorded = connection.scalar(text("SELECT currency FROM company"))
    if recorded != expected:
        raise CurrencyMismatch(
            f"COMPANY_CURRENCY is {expected}, but this database's amounts are in "
            f"{recorded}. Set COMPANY_CURRENCY={recorded}: the company currency is fixed "
            "when the database is created."
        )


def migrate(database_url: str, revision: str = "head", *, currency: str | None = None) -> None:
    """Upgrade the database to `revision` (recording `currency`, COMPANY_CURRENCY by
    default, as the company's if the database is new) and check that its company
    currency is `currency`. Blocking: run it off the event loop."""
    command.upgrade(alembic_config(database_url, currency), revision)


def prepare(settings: Settings) -> Settings:
    """Settings with a database URL (migrated to head) and a secret, ready to serve."""
    url = resolve_database_url(settings)
    migrate(url, currency=settings.company_currency)
    return settings.model_copy(update={"database_url": url}).with_secret()


def prepare_to_serve(settings: Settings) -> tuple[Settings, bool]:
    """Like `prepare`, but a database that cannot be reached yet is not fatal.

    Returns the settings and whether the migrations ran; if not, the app runs
    them once the database answers (see `migrate_when_reachable`).
    """
    url = resolve_database_url(settings)
    ready = settings.model_copy(update={"database_url": url}).with_secret()
    try:
        migrate(url, currency=settings.company_currency)
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


async def migrate_when_reachable(
    database_url: str, currency: str, on_done: Callable[[], None]
) -> None:
    """Retry the migrations every few seconds until they succeed, then call `on_done`."""
    while True:
        try:
            await asyncio.to_thread(migrate, database_url, currency=currency)
        except Exception as exc:
            if not is_connection_failure(exc):
                logger.exception("migrations failed")
                raise
            await asyncio.sleep(2)
            continue
        logger.info("database reachable: migrations applied")
        on_done()
        return
