"""A real SMTP server (aiosmtpd, on a free port of this machine) that collects what it
receives, and settings that send to it."""

import email
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import func, select, update

from contoso.config import Settings
from contoso.database import Database
from contoso.models import OutboxEmail, User
from tests.support.servers import free_port

PUBLIC_URL = "https://expenses.example.com"
MAIL_FROM = "Contoso Expenses <expenses@contoso.example>"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    # The message as the server received it, headers unparsed.
    raw: bytes

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        assert part is not None
        return str(part.get_content())


@dataclass
class Inbox:
    """What the server accepted, in order; logins it saw as (user, password)."""

    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    password: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=default)
        assert isinstance(message, EmailMessage)
        self.received.append(
            Received(
                envelope.mail_from, list(envelope.rcpt_tos), message, envelope.original_content
            )
        )
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login = (data.login.decode(), data.password.decode())
        self.logins.append(login)
        # handled=False: the server answers a refusal itself (535).
        return AuthResult(success=login[1] == self.password, handled=False)


class SmtpServer:
    """An aiosmtpd server on a fixed port that a test can stop and start again; with
    `smtputf8`, it offers SMTPUTF8 (addresses with non-ASCII local parts)."""

    def __init__(
        self, inbox: Inbox, *, password: str | None = None, smtputf8: bool = False
    ) -> None:
        self.inbox = inbox
        self.port = free_port()
        self.password = password
        self.smtputf8 = smtputf8
        inbox.password = password
        self.controller: Controller | None = None

    def start(self) -> None:
        options: dict[str, Any] = {"enable_SMTPUTF8": self.smtputf8}
        if self.password is not None:
            # AUTH without TLS: this test server has no certificate.
            options |= {"authenticator": self.inbox.authenticate, "auth_require_tls": False}
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp_server(inbox: Inbox) -> Iterator[SmtpServer]:
    server = SmtpServer(inbox)
    server.start()
    yield server
    server.stop()


def settings_for(settings: Settings, url: str | None, **changes: Any) -> Settings:
    """`settings`, validated again with mail to `url` (files when None)."""
    values = settings.model_dump() | {
        "smtp_url": url,
        "public_url": PUBLIC_URL,
        "mail_from": MAIL_FROM,
    }
    values["secret_key"] = settings.secret_key
    return Settings(_env_file=None, **(values | changes))


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return settings_for(settings, smtp_server.url)


@pytest.fixture
def database(app: Any) -> Database:
    """The app's database (its digest never sent yet: the shared conftest resets it)."""
    db: Database = app.state.database
    return db


async def outbox(database: Database) -> list[OutboxEmail]:
    async with database.sessionmaker() as session:
        rows = await session.scalars(select(OutboxEmail).order_by(OutboxEmail.id))
        return list(rows.all())


async def make_due(database: Database) -> None:
    """Every unsent email due now, as if its pause after a failure were over."""
    async with database.sessionmaker.begin() as session:
        await session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.sent_at.is_(None))
            .values(next_attempt_at=func.now())
        )


async def set_notifications(database: Database, user_id: int, on: bool) -> None:
    async with database.sessionmaker.begin() as session:
        await session.execute(update(User).where(User.id == user_id).values(email_notifications=on))
