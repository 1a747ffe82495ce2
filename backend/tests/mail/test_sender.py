"""The outbox delivered to a real SMTP server: once each, retried after failures,
never twice however many senders run."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from contoso.config import Settings
from contoso.database import Database
from contoso.mail.sender import GIVE_UP_AFTER, backoff, count_unsent, deliver_due
from contoso.mail.transport import transport_for
from contoso.models import OutboxEmail, TicketStatus, User
from contoso.tickets import service as tickets
from tests.mail.conftest import (
    MAIL_FROM,
    PUBLIC_URL,
    Inbox,
    SmtpServer,
    make_due,
    outbox,
    set_notifications,
)
from tests.support.factories import Account, Factory

NOTE = 'Attach the receipt <script>alert("x")</script> & resubmit'


async def _approve(factory: Factory, employer: Account, ticket_id: int, note: str | None) -> None:
    response = await factory.client.post(
        f"/api/tickets/{ticket_id}/approve", json={"note": note}, headers=employer.headers
    )
    assert response.status_code == 200, response.text


async def test_an_approval_sends_its_owner_one_email_with_the_ticket(
    factory, database: Database, mail_settings: Settings, inbox: Inbox
):
    employer = await factory.employer(username="Grace")
    alice = await factory.employee()
    ticket = await factory.ticket(alice, amount="42.50", description="Taxi <to> the client")

    await _approve(factory, employer, ticket["id"], NOTE)
    queued = await outbox(database)
    delivery = await deliver_due(database, transport_for(mail_settings), mail_settings)

    assert [(row.kind, row.to_address, row.sent_at) for row in queued] == [
        ("tickets_approved", alice.email, None)
    ]
    assert delivery.sent == 1 and delivery.failed == 0
    [mail] = inbox.received
    assert mail.recipients == [alice.email]
    assert mail.message["From"] == MAIL_FROM
    assert mail.message["To"] == alice.email
    assert mail.message["Subject"] == f"Approved: ticket #{ticket['id']}, $42.50"
    assert mail.message["Message-ID"].startswith(f"<outbox-{queued[0].id}.")
    assert mail.message["Message-ID"].endswith("@contoso.example>")
    assert mail.message["Auto-Submitted"] == "auto-generated"
    assert mail.message["Date"] is not None
    link = f"{PUBLIC_URL}/tickets/{ticket['id']}"  # the employee's page of the ticket
    assert "Grace approved your ticket" in mail.text
    assert "$42.50" in mail.text and link in mail.text
    assert NOTE in mail.text  # plain text says it as written
    assert "Taxi <to> the client" in mail.text
    assert f'href="{link}"' in mail.html and "$42.50" in mail.html
    assert "<script>" not in mail.html
    assert "Attach the receipt &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; resubmit" in (
        mail.html
    )
    assert "Taxi &lt;to&gt; the client" in mail.html
    [row] = await outbox(database)
    assert row.sent_at is not None and row.attempts == 1 and row.last_error is None


async def test_a_decision_that_rolls_back_queues_no_email(factory, database: Database):
    employer = await factory.employer()
    alice = await factory.employee()
    ticket = await factory.ticket(alice)

    async with database.sessionmaker() as session:
        deciding = await session.get_one(User, employer.id)
        outcome = await tickets.decide_tickets(
            session, deciding, [ticket["id"]], TicketStatus.DENIED, "No"
        )
        inside = await session.scalar(select(func.count()).select_from(OutboxEmail))
        await session.rollback()

    assert outcome.done == [ticket["id"]]
    assert inside == 1  # written in the decision's own transaction...
    assert await outbox(database) == []  # ...and gone with it


async def test_a_refused_decision_queues_no_email(factory, database: Database):
    employer = await factory.employer()
    alice = await factory.employee()
    ticket = await factory.ticket(alice)
    await _approve(factory, employer, ticket["id"], None)

    again = await factory.client.post(
        f"/api/tickets/{ticket['id']}/deny", json={"note": "No"}, headers=employer.headers
    )

    assert again.status_code == 409
    assert [row.kind for row in await outbox(database)] == ["tickets_approved"]


async def test_mail_waits_while_the_server_is_down_and_goes_once_it_is_back(
    factory, database: Database, mail_settings: Settings, smtp_server: SmtpServer, inbox: Inbox
):
    employer = await factory.employer()
    alice = await factory.employee()
    ticket = await factory.ticket(alice)
    smtp_server.stop()
    transport = transport_for(mail_settings)

    await _approve(factory, employer, ticket["id"], None)
    [queued] = await outbox(database)
    outage = [await deliver_due(database, transport, mail_settings) for _ in range(3)]
    [waiting] = await outbox(database)
    smtp_server.start()
    back = await deliver_due(database, transport, mail_settings)  # at once: no pause
    after_recovery = await deliver_due(database, transport, mail_settings)

    assert all((down.sent, down.failed) == (0, 1) for down in outage)
    assert all(down.server_down is not None for down in outage)
    # An outage is no refusal: nothing counted against the email, its turn kept.
    assert waiting.sent_at is None and waiting.failed_at is None
    assert waiting.attempts == 0 and waiting.first_refused_at is None
    assert waiting.next_attempt_at == queued.next_attempt_at
    assert waiting.last_error is not None and "unreachable" in waiting.last_error
    assert (back.sent, back.failed, back.server_down) == (1, 0, None)
    assert (after_recovery.sent, after_recovery.failed) == (0, 0)
    assert len(inbox.received) == 1
    [sent] = await outbox(database)
    assert sent.sent_at is not None and sent.attempts == 1 and sent.last_error is None


async def test_two_senders_at_once_send_each_email_exactly_once(
    factory, database: Database, mail_settings: Settings, inbox: Inbox
):
    employer = await factory.employer()
    employees = [await factory.employee() for _ in range(20)]
    ids = [(await factory.ticket(employee))["id"] for employee in employees]
    decided = await factory.client.post(
        "/api/tickets/decisions",
        json={"ticket_ids": ids, "decision": "approve"},
        headers=employer.headers,
    )
    assert decided.status_code == 200, decided.text

    first, second = await asyncio.gather(
        deliver_due(database, transport_for(mail_settings), mail_settings),
        deliver_due(database, transport_for(mail_settings), mail_settings),
    )

    assert first.sent + second.sent == 20
    assert first.sent > 0 and second.sent > 0  # both worked, on different rows
    recipients = sorted(to for mail in inbox.received for to in mail.recipients)
    assert recipients == sorted(employee.email for employee in employees)
    assert len({mail.message["Message-ID"] for mail in inbox.received}) == 20
    assert all(row.sent_at is not None for row in await outbox(database))


async def test_a_refused_email_is_retried_later_and_the_others_still_go(
    factory, database: Database, mail_settings: Settings, inbox: Inbox, caplog
):
    employer = await factory.employer()
    alice, bob = await factory.employee(), await factory.employee()
    ids = [(await factory.ticket(alice))["id"], (await factory.ticket(bob))["id"]]
    await factory.client.post(
        "/api/tickets/decisions",
        json={"ticket_ids": ids, "decision": "deny", "note": "Duplicate"},
        headers=employer.headers,
    )

    async def refuse_alice(server, session, envelope, address, rcpt_options):
        if address == alice.email:
            return "550 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    inbox.handle_RCPT = refuse_alice  # type: ignore[attr-defined]
    delivery = await deliver_due(database, transport_for(mail_settings), mail_settings)

    assert (delivery.sent, delivery.failed, delivery.server_down) == (1, 1, None)
    assert [mail.recipients for mail in inbox.received] == [[bob.email]]
    refused, sent = sorted(await outbox(database), key=lambda row: row.sent_at is not None)
    assert refused.to_address == alice.email and refused.sent_at is None
    assert refused.attempts == 1
    assert refused.last_error is not None and "No such mailbox" in refused.last_error
    assert f"to {alice.email}, attempt 1; retrying in 0:00:30" in caplog.text
    assert sent.to_address == bob.email and sent.sent_at is not None


async def _refused_for(database: Database, how_long: timedelta) -> datetime:
    """Every unsent email first refused `how_long` ago and due now: when that was."""
    async with database.sessionmaker.begin() as session:
        since = await session.scalar(select(func.now() - how_long))
        await session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.sent_at.is_(None))
            .values(first_refused_at=since, next_attempt_at=func.now())
        )
    assert since is not None
    return since


async def test_an_email_refused_for_three_days_is_given_up_and_said_so(
    factory, database: Database, mail_settings: Settings, inbox: Inbox, caplog
):
    employer, alice = await factory.employer(), await factory.employee()
    await _approve(factory, employer, (await factory.ticket(alice))["id"], None)

    async def refuse(server, session, envelope, address, rcpt_options):
        return "550 No such mailbox"

    inbox.handle_RCPT = refuse  # type: ignore[attr-defined]
    transport = transport_for(mail_settings)

    first = await deliver_due(database, transport, mail_settings)
    [refused] = await outbox(database)
    since = await _refused_for(database, GIVE_UP_AFTER - timedelta(minutes=1))
    not_yet = await deliver_due(database, transport, mail_settings)
    [still_refused] = await outbox(database)
    await _refused_for(database, GIVE_UP_AFTER + timedelta(minutes=1))
    last = await deliver_due(database, transport, mail_settings)
    await make_due(database)
    after = await deliver_due(database, transport, mail_settings)  # tried no more

    assert refused.first_refused_at is not None and refused.failed_at is None
    assert (first.failed, first.given_up) == (1, 0)
    # The first refusal's time is kept, however many follow.
    assert (not_yet.failed, not_yet.given_up) == (1, 0)
    assert still_refused.first_refused_at == since and still_refused.failed_at is None
    assert (last.failed, last.given_up) == (1, 1)
    [given_up] = await outbox(database)
    assert given_up.failed_at is not None and given_up.sent_at is None
    assert given_up.attempts == 3 and "No such mailbox" in (given_up.last_error or "")
    assert (after.sent, after.failed) == (0, 0)
    assert await count_unsent(database) == 0
    assert inbox.received == []
    assert given_up.first_refused_at is not None
    assert (
        f"gave up on email {given_up.id} (tickets_approved) to {alice.email}, refused since "
        f"{given_up.first_refused_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC (3 attempts): "
    ) in caplog.text


async def test_an_email_whose_payload_cannot_be_read_is_given_up_at_once_and_the_others_go(
    factory, database: Database, mail_settings: Settings, inbox: Inbox, caplog
):
    employer = await factory.employer()
    alice, bob = await factory.employee(), await factory.employee()
    for person in (alice, bob):
        await _approve(factory, employer, (await factory.ticket(person))["id"], None)
    # Alice's row as no writer of this schema makes it: an amount that is no number.
    async with database.sessionmaker.begin() as session:
        row = await session.scalar(select(OutboxEmail).where(OutboxEmail.to_address == alice.email))
        assert row is not None
        [ticket] = row.payload["tickets"]
        row.payload = row.payload | {"tickets": [ticket | {"amount": "lots"}]}

    delivery = await deliver_due(database, transport_for(mail_settings), mail_settings)
    await make_due(database)
    again = await deliver_due(database, transport_for(mail_settings), mail_settings)

    assert (delivery.sent, delivery.failed, delivery.unreadable) == (1, 1, 1)
    assert [mail.recipients for mail in inbox.received] == [[bob.email]]
    unreadable = next(row for row in await outbox(database) if row.to_address == alice.email)
    assert unreadable.failed_at is not None and unreadable.sent_at is None
    assert unreadable.attempts == 1
    assert unreadable.last_error == (
        "UnreadablePayload: the payload is not a tickets_approved email's"
        " (tickets.0.amount: Input should be a valid decimal)"
    )
    assert f"gave up on email {unreadable.id} (tickets_approved) to {alice.email} at once" in (
        caplog.text
    )
    assert (again.sent, again.failed) == (0, 0)  # tried no more
    assert await count_unsent(database) == 0


async def test_an_employee_who_turned_emails_off_gets_none(
    factory, database: Database, mail_settings: Settings, inbox: Inbox
):
    employer = await factory.employer()
    alice, bob = await factory.employee(), await factory.employee()
    await set_notifications(database, alice.id, False)
    ids = [(await factory.ticket(alice))["id"], (await factory.ticket(bob))["id"]]

    await factory.client.post(
        "/api/tickets/decisions",
        json={"ticket_ids": ids, "decision": "approve"},
        headers=employer.headers,
    )
    await deliver_due(database, transport_for(mail_settings), mail_settings)

    assert [row.to_address for row in await outbox(database)] == [bob.email]
    assert [mail.recipients for mail in inbox.received] == [[bob.email]]


async def test_a_bulk_decision_sends_each_owner_one_email_listing_their_tickets(
    factory, database: Database, mail_settings: Settings, inbox: Inbox
):
    employer = await factory.employer()
    alice, bob = await factory.employee(), await factory.employee()
    alices = [(await factory.ticket(alice, amount=amount))["id"] for amount in ("10.00", "2.50")]
    bobs = (await factory.ticket(bob, amount="7.00"))["id"]

    await factory.client.post(
        "/api/tickets/decisions",
        json={"ticket_ids": [*alices, bobs], "decision": "approve"},
        headers=employer.headers,
    )
    await deliver_due(database, transport_for(mail_settings), mail_settings)

    mails = {mail.recipients[0]: mail for mail in inbox.received}
    assert mails[alice.email].message["Subject"] == "Approved: 2 tickets, $12.50"
    assert "2 of your tickets" in mails[alice.email].text
    for ticket_id in alices:
        assert f"{PUBLIC_URL}/tickets/{ticket_id}" in mails[alice.email].text
    assert mails[bob.email].message["Subject"] == f"Approved: ticket #{bobs}, $7.00"


async def test_a_payment_email_carries_the_reference_and_the_amount(
    factory, database: Database, mail_settings: Settings, inbox: Inbox
):
    employer = await factory.employer(username="Payroll")
    alice = await factory.employee()
    ticket = await factory.ticket(alice, amount="19.99")
    await _approve(factory, employer, ticket["id"], None)
    paid = await factory.client.post(
        "/api/payments",
        json={"ticket_ids": [ticket["id"]], "reference": "SEPA <2026-11-28>"},
        headers=employer.headers,
    )
    assert paid.status_code == 201, paid.text

    await deliver_due(database, transport_for(mail_settings), mail_settings)

    approved, payment = inbox.received
    assert approved.message["Subject"].startswith("Approved:")
    assert payment.message["Subject"] == f"Paid: $19.99 for ticket #{ticket['id']}"
    assert "Payroll paid you $19.99" in payment.text
    assert "Payment reference: SEPA <2026-11-28>" in payment.text
    assert "SEPA &lt;2026-11-28&gt;" in payment.html


async def test_a_request_for_changes_tells_the_owner_what_to_change(
    factory, database: Database, mail_settings: Settings, inbox: Inbox
):
    employer = await factory.employer(username="Grace")
    alice = await factory.employee()
    ticket = await factory.ticket(alice)

    asked = await factory.client.post(
        f"/api/tickets/{ticket['id']}/request-changes",
        json={"note": "Which client?"},
        headers=employer.headers,
    )
    assert asked.status_code == 200, asked.text
    await deliver_due(database, transport_for(mail_settings), mail_settings)

    [mail] = inbox.received
    assert mail.message["Subject"] == f"Changes requested: ticket #{ticket['id']}"
    assert "Grace sent your ticket" in mail.text and "Which client?" in mail.text
    assert f"{PUBLIC_URL}/tickets/{ticket['id']}" in mail.text


async def test_a_suspended_employee_is_not_emailed(
    factory, database: Database, mail_settings: Settings
):
    employer = await factory.employer()
    alice = await factory.employee()
    ticket = await factory.ticket(alice)
    await _approve(factory, employer, ticket["id"], None)
    suspended = await factory.client.post(
        f"/api/employees/{alice.id}/suspend", headers=employer.headers
    )
    assert suspended.status_code == 200, suspended.text

    paid = await factory.client.post(
        "/api/payments", json={"ticket_ids": [ticket["id"]]}, headers=employer.headers
    )

    assert paid.status_code == 409  # hidden: not paid, and nobody told
    assert [row.kind for row in await outbox(database)] == ["tickets_approved"]


def test_retries_wait_longer_each_time_up_to_an_hour():
    waits = [backoff(attempt) for attempt in range(1, 11)]

    assert waits[:4] == [
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
    ]
    assert waits[-1] == timedelta(hours=1)
    assert backoff(10_000) == timedelta(hours=1)
