"""Where emails go: a mail server over SMTP (`SMTP_URL`, with aiosmtplib), or, with no
server configured, `.eml` files in DATA_DIR/outbox/ that development can open."""

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import aiosmtplib

from contoso.config import Settings
from contoso.smtp_url import SmtpServer, StartTls

logger = logging.getLogger(__name__)

# Seconds for each step with the mail server (connecting, each command, the message):
# the sender holds its row's lock meanwhile, so a stalled server must not hold it long.
SMTP_TIMEOUT = 30.0
# The server's "421 closing the connection": busy or shutting down, for every message.
SERVICE_NOT_AVAILABLE = 421


class MailServerDown(Exception):
    """The mail server cannot be reached, or refuses the connection or the login: no
    message can go now, whichever it is."""


class NeedsSmtpUtf8(Exception):
    """The mail server does not offer SMTPUTF8, which an address with non-ASCII
    characters in its local part needs: this message cannot go through it."""


class Outgoing(Protocol):
    async def send(self, outbox_id: int, message: EmailMessage) -> None:
        """Hand `message` (outbox row `outbox_id`) on; MailServerDown when nothing can
        be sent now, another exception when this message was refused."""


class Transport(Protocol):
    def describe(self) -> str:
        """Where emails go, for the log."""

    def open(self) -> contextlib.AbstractAsyncContextManager[Outgoing]:
        """A sending session (one connection, opened at the first message)."""


class SmtpTransport:
    """Sends over SMTP, one connection per session, opened when the first message goes."""

    def __init__(self, server: SmtpServer, timeout: float = SMTP_TIMEOUT) -> None:
        self.server = server
        self.timeout = timeout

    def describe(self) -> str:
        return f"SMTP server {self.server.describe()}"

    @asynccontextmanager
    async def open(self) -> AsyncIterator[Outgoing]:
        session = _SmtpSession(self._client())
        try:
            yield session
        finally:
            await session.close()

    def _client(self) -> aiosmtplib.SMTP:
        server = self.server
        start_tls = {
            StartTls.REQUIRED: True,
            StartTls.OPPORTUNISTIC: None,  # aiosmtplib: when the server offers it
            StartTls.NEVER: False,
        }[server.starttls]
        return aiosmtplib.SMTP(
            hostname=server.host,
            port=server.port,
            username=server.username,
            password=server.password,
            use_tls=server.implicit_tls,
            start_tls=False if server.implicit_tls else start_tls,
            timeout=self.timeout,
        )


class _SmtpSession:
    def __init__(self, client: aiosmtplib.SMTP) -> None:
        self.client = client

    async def send(self, outbox_id: int, message: EmailMessage) -> None:
        if not self.client.is_connected:
            try:
                # Connects, then STARTTLS and the login as SMTP_URL says.
                await self.client.connect()
            except (OSError, aiosmtplib.SMTPException) as exc:
                raise MailServerDown(_reason(exc)) from exc
        try:
            await self.client.send_message(message)
        except aiosmtplib.SMTPNotSupported as exc:
            # aiosmtplib checks the server's extensions before sending anything.
            raise NeedsSmtpUtf8(
                f"the mail server does not accept addresses with non-ASCII characters (no "
                f"SMTPUTF8), so {message['To']} cannot be sent through it; use a server "
                "that offers SMTPUTF8"
            ) from exc
        except OSError as exc:
            # The connection broke or stalled (aiosmtplib's disconnection and timeout
            # errors are a ConnectionError and a TimeoutError).
            self.client.close()
            raise MailServerDown(_reason(exc)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code != SERVICE_NOT_AVAILABLE:
                raise  # this message refused (a recipient, its size...): the next may go
            self.client.close()
            raise MailServerDown(_reason(exc)) from exc

    async def close(self) -> None:
        if not self.client.is_connected:
            return
        try:
            await self.client.quit()
        except (OSError, aiosmtplib.SMTPException):
            self.client.close()


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class FileTransport:
    """Writes each message to `directory/<outbox id>.eml` and logs a line: development
    needs no mail server, and a mail program opens the files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def describe(self) -> str:
        return f"files in {self.directory}/ (SMTP_URL is not set)"

    @asynccontextmanager
    async def open(self) -> AsyncIterator[Outgoing]:
        yield self

    async def send(self, outbox_id: int, message: EmailMessage) -> None:
        path = self.directory / f"{outbox_id}.eml"
        # The message's own policy: SMTP, or SMTPUTF8 for an address beyond ASCII.
        await asyncio.to_thread(_write_atomically, path, message.as_bytes())
        logger.info(
            "email %d to %s written to %s: %s", outbox_id, message["To"], path, message["Subject"]
        )


def _write_atomically(path: Path, content: bytes) -> None:
    # A reader (or a crash) never sees half a file: written aside, then renamed.
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".eml.partial")
    partial.write_bytes(content)
    os.replace(partial, path)


def transport_for(settings: Settings) -> Transport:
    """The SMTP server SMTP_URL names, or files in DATA_DIR/outbox/ without one."""
    server = settings.smtp_server
    if server is None:
        return FileTransport(settings.data_dir / "outbox")
    return SmtpTransport(server)
