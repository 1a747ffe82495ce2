"""A password reset by email, end to end: the request writes the email to the outbox,
the sender delivers it to a real SMTP server, and the link in it sets the password."""

import re
from urllib.parse import parse_qs, urlsplit

from contoso.config import Settings
from contoso.database import Database
from contoso.mail.sender import deliver_due
from contoso.mail.transport import transport_for
from tests.mail.conftest import PUBLIC_URL, Inbox, make_due, set_notifications
from tests.support.factories import Factory

LINK = re.compile(re.escape(PUBLIC_URL) + r"/reset-password\?token=\S+")


async def test_the_emailed_link_resets_the_password_once(
    factory: Factory, database: Database, mail_settings: Settings, inbox: Inbox
):
    mei = await factory.employee()
    api = factory.client
    # A reset email is one they asked for: it goes even with ticket emails off.
    await set_notifications(database, mei.id, False)

    asked = await api.post("/api/auth/password-reset", json={"email": mei.email})
    await make_due(database)
    await deliver_due(database, transport_for(mail_settings), mail_settings)
    [received] = inbox.received
    [link] = LINK.findall(received.text)
    [token] = parse_qs(urlsplit(link).query)["token"]
    body = {"token": token, "password": "a brand new passphrase"}
    first = await api.post("/api/auth/password-reset/confirm", json=body)
    second = await api.post("/api/auth/password-reset/confirm", json=body)

    assert asked.status_code == 202
    assert received.recipients == [mei.email]
    assert received.message["Subject"] == "Reset your Contoso Expenses password"
    assert f'href="{link}"' in received.html
    assert first.status_code == 200 and second.status_code == 400
