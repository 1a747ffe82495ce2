"""The employers' digest of tickets waiting for a decision: only when some wait, at most
once per DIGEST_HOURS, counting only visible tickets."""

import asyncio

from sqlalchemy import text

from contoso.config import Settings
from contoso.database import Database
from contoso.mail.sender import deliver_due, queue_digest
from contoso.mail.transport import transport_for
from tests.mail.conftest import PUBLIC_URL, Inbox, outbox, set_notifications


async def _hours_pass(database: Database, hours: int) -> None:
    async with database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE company SET last_digest_at = last_digest_at - make_interval(hours => :h)"),
            {"h": hours},
        )


async def test_employers_get_a_digest_of_what_waits(
    factory, database: Database, mail_settings: Settings, inbox: Inbox
):
    boss, deputy = await factory.employer(), await factory.employer()
    alice = await factory.employee()
    await factory.ticket(alice, amount="10.00", spent_on="2026-01-05")
    await factory.ticket(alice, amount="5.25", spent_on="2026-02-01")

    queued = await queue_digest(database, mail_settings)
    await deliver_due(database, transport_for(mail_settings), mail_settings)

    assert queued == 2
    assert sorted(mail.recipients[0] for mail in inbox.received) == [boss.email, deputy.email]
    mail = inbox.received[0]
    assert mail.message["Subject"] == "2 tickets waiting for a decision ($15.25)"
    assert "2 tickets wait for a decision: $15.25 in all." in mail.text
    assert "the oldest purchase was on 2026-01-05" in mail.text
    assert f"{PUBLIC_URL}/admin/tickets/list?status=pending" in mail.text
    assert f'href="{PUBLIC_URL}/admin/tickets/list?status=pending"' in mail.html
    assert "at most every 12 hours" in mail.text


async def test_the_digest_goes_at_most_once_per_digest_hours(
    factory, database: Database, mail_settings: Settings
):
    await factory.employer()
    alice = await factory.employee()
    await factory.ticket(alice)

    first = await queue_digest(database, mail_settings)
    soon_after = await queue_digest(database, mail_settings)
    await _hours_pass(database, 11)
    within = await queue_digest(database, mail_settings)
    await _hours_pass(database, 1)
    after = await queue_digest(database, mail_settings)

    assert (first, soon_after, within, after) == (1, 0, 0, 1)
    assert [row.kind for row in await outbox(database)] == ["digest", "digest"]


async def test_no_digest_when_nothing_waits(factory, database: Database, settings: Settings):
    employer = await factory.employer()
    alice = await factory.employee()
    ticket = await factory.ticket(alice)
    await factory.client.post(
        f"/api/tickets/{ticket['id']}/approve", json={}, headers=employer.headers
    )

    queued = await queue_digest(database, settings)

    assert queued == 0
    assert [row.kind for row in await outbox(database)] == ["tickets_approved"]
    # Not claimed either: a ticket filed now is in the next check's digest.
    await factory.ticket(alice)
    assert await queue_digest(database, settings) == 1


async def test_a_suspended_employees_tickets_are_not_in_the_digest(
    factory, database: Database, mail_settings: Settings, inbox: Inbox
):
    employer = await factory.employer()
    alice, mallory = await factory.employee(), await factory.employee()
    await factory.ticket(alice, amount="3.00")
    await factory.ticket(mallory, amount="500.00")
    await factory.ticket(mallory, amount="600.00")
    suspended = await factory.client.post(
        f"/api/employees/{mallory.id}/suspend", headers=employer.headers
    )
    assert suspended.status_code == 200

    await queue_digest(database, mail_settings)
    await deliver_due(database, transport_for(mail_settings), mail_settings)

    [mail] = inbox.received
    assert mail.message["Subject"] == "1 ticket waiting for a decision ($3.00)"


async def test_only_hidden_tickets_waiting_is_nothing_waiting(
    factory, database: Database, settings: Settings
):
    employer = await factory.employer()
    mallory = await factory.employee()
    await factory.ticket(mallory)
    await factory.client.post(f"/api/employees/{mallory.id}/suspend", headers=employer.headers)

    assert await queue_digest(database, settings) == 0


async def test_the_digest_skips_employers_who_turned_emails_off(
    factory, database: Database, settings: Settings
):
    boss, quiet = await factory.employer(), await factory.employer()
    await set_notifications(database, quiet.id, False)
    alice = await factory.employee()
    await factory.ticket(alice)

    await queue_digest(database, settings)

    assert [row.to_address for row in await outbox(database)] == [boss.email]


async def test_senders_racing_for_the_digest_queue_it_once(
    factory, database: Database, settings: Settings
):
    await factory.employer()
    alice = await factory.employee()
    await factory.ticket(alice)

    queued = await asyncio.gather(*(queue_digest(database, settings) for _ in range(8)))

    assert sorted(queued) == [0] * 7 + [1]
    assert len(await outbox(database)) == 1
