"""Internationalised addresses (RFC 6531): the domain always goes IDNA-encoded
(`xn--exmple-cua.com`), and a local part beyond ASCII goes with SMTPUTF8, raw UTF-8 in
the `To:` header, never as RFC 2047 encoded-words (which RFC 2047 forbids in addresses).
A server without SMTPUTF8 refuses that one email, recorded as such; the others go."""

import email
from email.policy import default

from contoso.config import Settings
from contoso.database import Database
from contoso.mail.sender import deliver_due
from contoso.mail.transport import transport_for
from tests.mail.conftest import Inbox, SmtpServer, outbox, settings_for
from tests.support.factories import Factory

UTF8_ADDRESS = "\u00fc@ex\u00e4mple.com"  # ü@exämple.com
UTF8_SENT = "\u00fc@xn--exmple-cua.com"
IDN_ADDRESS = "mei@ex\u00e4mple.com"
IDN_SENT = "mei@xn--exmple-cua.com"


async def _denied_to(factory: Factory, *addresses: str) -> None:
    """A ticket of an employee at each address, denied: one email each."""
    employer = await factory.employer()
    ids = []
    for address in addresses:
        employee = await factory.employee(email=address)
        ids.append((await factory.ticket(employee))["id"])
    response = await factory.client.post(
        "/api/tickets/decisions",
        json={"ticket_ids": ids, "decision": "deny", "note": "Duplicate"},
        headers=employer.headers,
    )
    assert response.status_code == 200, response.text


def _to_line(raw: bytes) -> bytes:
    return next(line for line in raw.split(b"\r\n") if line.lower().startswith(b"to:"))


async def test_a_utf8_address_is_sent_with_smtputf8_and_a_raw_to_header(
    factory, database: Database, settings: Settings, inbox: Inbox
):
    server = SmtpServer(inbox, smtputf8=True)
    server.start()
    try:
        await _denied_to(factory, UTF8_ADDRESS)
        mail_settings = settings_for(settings, server.url)
        delivery = await deliver_due(database, transport_for(mail_settings), mail_settings)
    finally:
        server.stop()

    assert delivery.sent == 1
    [mail] = inbox.received
    assert mail.recipients == [UTF8_SENT]
    assert _to_line(mail.raw) == b"To: " + UTF8_SENT.encode()
    assert b"=?" not in _to_line(mail.raw)
    assert mail.message["To"] == UTF8_SENT


async def test_an_ascii_local_part_at_an_idn_domain_goes_as_punycode_to_any_server(
    factory, database: Database, mail_settings: Settings, inbox: Inbox
):
    # The fixture's server does not offer SMTPUTF8: none is needed.
    await _denied_to(factory, IDN_ADDRESS)

    delivery = await deliver_due(database, transport_for(mail_settings), mail_settings)

    assert delivery.sent == 1
    [mail] = inbox.received
    assert mail.recipients == [IDN_SENT]
    assert _to_line(mail.raw) == b"To: " + IDN_SENT.encode()
    [row] = await outbox(database)
    assert row.to_address == IDN_ADDRESS  # stored as registered, shown as people read it


async def test_a_server_without_smtputf8_refuses_that_email_saying_why_and_the_others_go(
    factory, database: Database, mail_settings: Settings, inbox: Inbox
):
    await _denied_to(factory, UTF8_ADDRESS, "bob@example.com")

    delivery = await deliver_due(database, transport_for(mail_settings), mail_settings)

    assert (delivery.sent, delivery.failed, delivery.server_down) == (1, 1, None)
    assert [mail.recipients for mail in inbox.received] == [["bob@example.com"]]
    refused = next(row for row in await outbox(database) if row.to_address == UTF8_ADDRESS)
    assert refused.sent_at is None and refused.attempts == 1
    assert refused.last_error is not None
    assert "does not accept addresses with non-ASCII characters (no SMTPUTF8)" in (
        refused.last_error
    )
    assert UTF8_SENT in refused.last_error


async def test_an_eml_file_holds_the_utf8_address_raw(
    factory, database: Database, settings: Settings, tmp_path
):
    files = settings_for(settings, None, data_dir=tmp_path)
    await _denied_to(factory, UTF8_ADDRESS)

    await deliver_due(database, transport_for(files), files)

    [row] = await outbox(database)
    raw = (tmp_path / "outbox" / f"{row.id}.eml").read_bytes()
    assert _to_line(raw) == b"To: " + UTF8_SENT.encode()
    assert email.message_from_bytes(raw, policy=default)["To"] == UTF8_SENT
