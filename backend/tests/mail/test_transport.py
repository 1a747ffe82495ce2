"""Where emails go: .eml files without SMTP_URL, or the SMTP server it names, logged in
as it says and never sending a password in the clear unasked."""

import email
import logging
from email.policy import default

from contoso.config import Settings
from contoso.database import Database
from contoso.mail.sender import deliver_due
from contoso.mail.transport import FileTransport, SmtpTransport, transport_for
from tests.mail.conftest import Inbox, SmtpServer, outbox, settings_for


async def _approved(factory) -> dict:
    employer = await factory.employer()
    alice = await factory.employee()
    ticket = await factory.ticket(alice, amount="8.00")
    response = await factory.client.post(
        f"/api/tickets/{ticket['id']}/approve", json={}, headers=employer.headers
    )
    assert response.status_code == 200
    return ticket


async def test_without_smtp_url_emails_are_eml_files_in_the_data_dir(
    factory, database: Database, settings: Settings, tmp_path, caplog
):
    files = settings_for(settings, None, data_dir=tmp_path)
    ticket = await _approved(factory)
    caplog.set_level(logging.INFO, logger="contoso.mail")

    transport = transport_for(files)
    delivery = await deliver_due(database, transport, files)

    assert isinstance(transport, FileTransport)
    [row] = await outbox(database)
    path = tmp_path / "outbox" / f"{row.id}.eml"
    assert delivery.sent == 1 and row.sent_at is not None
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == [path.name]
    message = email.message_from_bytes(path.read_bytes(), policy=default)
    assert message["Subject"] == f"Approved: ticket #{ticket['id']}, $8.00"
    assert message["To"] == row.to_address
    assert message.get_body(("html",)) is not None
    assert f"written to {path}" in caplog.text


async def test_credentials_in_the_url_log_in_to_the_server(
    factory, database: Database, settings: Settings, inbox: Inbox
):
    server = SmtpServer(inbox, password="p@ss:word")
    server.start()
    try:
        await _approved(factory)
        # A test server without TLS: the URL has to allow the login in the clear.
        url = f"smtp://mailer:p%40ss%3Aword@127.0.0.1:{server.port}?starttls=never"
        mail_settings = settings_for(settings, url)
        delivery = await deliver_due(database, transport_for(mail_settings), mail_settings)
    finally:
        server.stop()

    assert inbox.logins == [("mailer", "p@ss:word")]
    assert delivery.sent == 1 and len(inbox.received) == 1


async def test_a_refused_login_keeps_the_email_for_later(
    factory, database: Database, settings: Settings, inbox: Inbox
):
    server = SmtpServer(inbox, password="right")
    server.start()
    try:
        await _approved(factory)
        url = f"smtp://mailer:wrong@127.0.0.1:{server.port}?starttls=never"
        mail_settings = settings_for(settings, url)
        delivery = await deliver_due(database, transport_for(mail_settings), mail_settings)
    finally:
        server.stop()

    assert delivery.server_down is not None and "SMTPAuthenticationError" in delivery.server_down
    assert inbox.received == []
    [row] = await outbox(database)
    # A setting to fix, not this email's fault: not counted against it.
    assert row.sent_at is None and row.attempts == 0 and row.first_refused_at is None
    assert row.last_error is not None and "SMTPAuthenticationError" in row.last_error


async def test_credentials_are_not_sent_to_a_server_without_starttls(
    factory, database: Database, settings: Settings, inbox: Inbox
):
    server = SmtpServer(inbox, password="secret")
    server.start()
    try:
        await _approved(factory)
        # With credentials, STARTTLS is required unless the URL says otherwise.
        mail_settings = settings_for(settings, f"smtp://mailer:secret@127.0.0.1:{server.port}")
        transport = transport_for(mail_settings)
        delivery = await deliver_due(database, transport, mail_settings)
    finally:
        server.stop()

    assert isinstance(transport, SmtpTransport)
    assert delivery.server_down is not None and "STARTTLS" in delivery.server_down.upper()
    assert inbox.logins == [] and inbox.received == []


async def test_without_credentials_starttls_is_used_only_when_offered(
    factory, database: Database, mail_settings: Settings, inbox: Inbox
):
    await _approved(factory)

    # The test server offers no STARTTLS; smtp:// without credentials goes on in the clear.
    delivery = await deliver_due(database, transport_for(mail_settings), mail_settings)

    assert delivery.sent == 1 and len(inbox.received) == 1


def test_transports_describe_themselves_without_the_password(settings: Settings, tmp_path):
    smtp = transport_for(settings_for(settings, "smtps://mailer:hunter2@smtp.example.com"))
    files = transport_for(settings_for(settings, None, data_dir=tmp_path))

    assert smtp.describe() == "SMTP server smtp.example.com:465 (TLS, as mailer)"
    assert files.describe() == f"files in {tmp_path / 'outbox'}/ (SMTP_URL is not set)"
