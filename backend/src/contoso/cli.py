"""The `contoso` command: serve, migrate, create-employer, seed-demo, import-rates,
send-mail, db-url."""

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from contoso.config import Settings
from contoso.logs import configure_logging


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        sys.exit(f"contoso: invalid configuration:\n{exc}")


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from contoso.bootstrap import prepare_to_serve, resolve_database_url
    from contoso.main import MIGRATE_ON_START, create_app

    base = _settings()
    configure_logging(base.log_level, base.log_format)
    if base.secret_key is None:
        logging.getLogger("contoso").warning(
            "SECRET_KEY is not set: using a development secret kept in %s",
            base.data_dir / "secret_key",
        )
    if args.no_migrate:  # a separate step migrates (the compose `migrate` service)
        url = resolve_database_url(base)
        settings = base.model_copy(update={"database_url": url}).with_secret()
        migrated = True
    else:
        settings, migrated = prepare_to_serve(base)
    workers = args.workers or settings.workers
    url = f"http://{args.host}:{args.port}"
    print(f"Contoso Expenses on {url} ({workers} worker{'s' if workers > 1 else ''})")
    print(f"  Employee pages: {url}/")
    print(f"  Employer console: {url}/admin")
    if settings.docs_enabled:
        print(f"  API docs:  {url}/docs")
    print(f"  Health:    {url}/healthz  {url}/readyz", flush=True)
    options = {
        "host": args.host,
        "port": args.port,
        "log_level": settings.log_level,
        "log_config": None,  # ours, set above: text or JSON, with request ids
        "access_log": False,  # RequestIdMiddleware logs each request once
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
    }
    # uvicorn re-raises the signal that stopped it once it has shut down. Turn it
    # into a normal exit so atexit hooks run: they stop the embedded PostgreSQL.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):
        if workers == 1:
            uvicorn.run(create_app(settings, migrate_on_start=not migrated), **options)
            return
        # Worker processes build their app from the environment: hand them the
        # resolved database and secret (the embedded server's, or the generated one).
        assert settings.database_url and settings.secret_key
        os.environ |= {
            "DATABASE_URL": settings.database_url,
            "SECRET_KEY": settings.secret_key.get_secret_value(),
            MIGRATE_ON_START: "0" if migrated else "1",
        }
        uvicorn.run("contoso.main:app_from_environment", factory=True, workers=workers, **options)


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


def import_rates(args: argparse.Namespace) -> None:
    from contoso.bootstrap import prepare
    from contoso.commands import import_rates as load

    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        sys.exit(f"contoso: cannot read {args.file}: {exc}")
    message, ok = asyncio.run(load(prepare(_settings()), text))
    if not ok:
        sys.exit(f"contoso: {message}")
    print(message)


def send_mail(args: argparse.Namespace) -> None:
    from contoso.bootstrap import prepare
    from contoso.commands import send_mail as send

    message, ok = asyncio.run(send(prepare(_settings()), retry=args.retry_failed))
    if not ok:
        sys.exit(f"contoso: {message}")
    print(message)


def main(argv: Sequence[str] | None = None) -> None:
    configure_logging("info", "text")
    parser = argparse.ArgumentParser(prog="contoso", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    command = commands.add_parser("serve", help="migrate the database, then serve the app")
    command.add_argument("--host", default="127.0.0.1")
    command.add_argument("--port", type=int, default=8000)
    command.add_argument("--workers", type=int, help="worker processes (default: WORKERS)")
    command.add_argument(
        "--no-migrate", action="store_true", help="skip migrations (another step runs them)"
    )
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

    command = commands.add_parser(
        "import-rates",
        help="record exchange rates from a CSV file: currency,rate,date lines, or the "
        "European Central Bank's eurofxref.csv or eurofxref-hist.csv",
    )
    command.add_argument("file", type=Path)
    command.set_defaults(run=import_rates)

    command = commands.add_parser(
        "send-mail",
        help="send the emails that are due now (and the employers' digest, if due), once; "
        "`contoso serve` does this every few seconds",
    )
    command.add_argument(
        "--retry-failed",
        action="store_true",
        help="first give the emails the sender gave up on (refused for 3 days) another try, "
        "e.g. once a mail setting that refused them is fixed",
    )
    command.set_defaults(run=send_mail)

    command = commands.add_parser("db-url", help="print the database URL (for psql)")
    command.set_defaults(run=db_url)

    args = parser.parse_args(argv)
    try:
        args.run(args)
    except Exception as exc:
        from contoso.bootstrap import CurrencyMismatch

        if isinstance(exc, CurrencyMismatch):  # a setting to correct, not a crash
            sys.exit(f"contoso: {exc}")
        raise
