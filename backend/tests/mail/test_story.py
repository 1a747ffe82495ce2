"""The issue's story by email: a ticket sent back for a receipt, resubmitted, approved
during a mail-server outage and paid; the employee gets each email exactly once."""

from contoso.config import Settings
from contoso.database import Database
from contoso.mail.sender import deliver_due
from contoso.mail.transport import transport_for
from tests.mail.conftest import Inbox, SmtpServer, make_due
from tests.support.factories import Factory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def test_each_email_of_the_round_trip_arrives_once_across_an_outage(
    factory: Factory,
    database: Database,
    mail_settings: Settings,
    smtp_server: SmtpServer,
    inbox: Inbox,
):
    boss, dana = await factory.employer(username="Boss"), await factory.employee()
    ticket = await factory.ticket(dana, amount="64.00", description="Train to Lyon")
    url = f"/api/tickets/{ticket['id']}"
    api = factory.client
    transport = transport_for(mail_settings)

    async def deliver() -> None:
        await make_due(database)
        await deliver_due(database, transport, mail_settings)

    await api.post(
        f"{url}/request-changes", json={"note": "Attach the receipt"}, headers=boss.headers
    )
    await deliver()
    await api.post(
        f"{url}/receipts", files={"file": ("r.pdf", PDF, "application/pdf")}, headers=dana.headers
    )
    await api.post(f"{url}/resubmit", headers=dana.headers)
    smtp_server.stop()
    await api.post(f"{url}/approve", json={}, headers=boss.headers)
    await deliver()  # the server is down: nothing sent, nothing lost
    await deliver()
    smtp_server.start()
    await deliver()
    paid = await api.post(
        "/api/payments",
        json={"ticket_ids": [ticket["id"]], "reference": "SEPA-2026-11-28-01"},
        headers=boss.headers,
    )
    await deliver()
    await deliver()  # nothing left: nothing sent twice

    assert paid.status_code == 201, paid.text
    number = ticket["id"]
    assert [(mail.recipients, mail.message["Subject"]) for mail in inbox.received] == [
        ([dana.email], f"Changes requested: ticket #{number}"),
        ([dana.email], f"Approved: ticket #{number}, $64.00"),
        ([dana.email], f"Paid: $64.00 for ticket #{number}"),
    ]
    assert "Attach the receipt" in inbox.received[0].text
    assert "SEPA-2026-11-28-01" in inbox.received[2].text


async def test_an_employee_turns_emails_off_and_on_through_the_api(factory: Factory, database):
    dana = await factory.employee()
    api = factory.client

    before = (await api.get("/api/users/me", headers=dana.headers)).json()
    off = await api.patch(
        "/api/users/me", json={"email_notifications": False}, headers=dana.headers
    )
    after = (await api.get("/api/users/me", headers=dana.headers)).json()
    bad = await api.patch("/api/users/me", json={"role": "employer"}, headers=dana.headers)

    assert before["email_notifications"] is True
    assert off.json()["email_notifications"] is False
    assert after["email_notifications"] is False
    assert bad.status_code == 422
