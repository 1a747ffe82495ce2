"""The console's emails: every email the outbox holds, by the subject its reader saw,
with where it is (sent, waiting for a next try, given up), found by address or state."""

import re

from sqlalchemy import func, update

from contoso.database import Database
from contoso.models import OutboxEmail


def listed(page: str) -> list[tuple[str, str, str]]:
    """The list's rows as (to, subject, state), in its order."""
    rows = re.findall(
        r'<td><span class="email-to" title="[^"]+"><bdi>([^<>\s]+@[^<>\s]+)</bdi></span></td>\s*'
        r'<td><span class="email-subject">([^<]+)</span></td>\s*'
        r'<td><span class="badge [^"]+ email-state">(\w+)</span>',
        page,
    )
    return [(to, subject, state) for to, subject, state in rows]


async def _approve(factory, employer, ticket_id: int) -> None:
    response = await factory.client.post(
        f"/api/tickets/{ticket_id}/approve", json={}, headers=employer.headers
    )
    assert response.status_code == 200, response.text


async def _set(database: Database, to: str, **values) -> None:
    """The email to `to` as the sender would have left it."""
    async with database.sessionmaker.begin() as session:
        await session.execute(
            update(OutboxEmail).where(OutboxEmail.to_address == to).values(**values)
        )


async def test_emails_are_listed_by_subject_with_where_each_is(app, browser, factory):
    database: Database = app.state.database
    boss = await factory.employer()
    alice, bob, chen = [await factory.employee() for _ in range(3)]
    tickets = [await factory.ticket(person, amount="20.00") for person in (alice, bob, chen)]
    for ticket in tickets:
        await _approve(factory, boss, ticket["id"])
    await _set(database, alice.email, sent_at=func.now(), attempts=1)
    await _set(
        database,
        bob.email,
        attempts=2,
        last_error="SMTPRecipientsRefused: 452 Mailbox full",
        first_refused_at=func.now(),
        next_attempt_at=func.now() + func.make_interval(0, 0, 0, 0, 0, 1),
    )
    await _set(
        database,
        chen.email,
        attempts=80,
        last_error="SMTPRecipientsRefused: 550 No such mailbox " + "x" * 200,
        first_refused_at=func.now(),
        failed_at=func.now(),
    )
    await browser.login_as(boss)

    everything = (await browser.client.get("/admin/emails/list?sortBy=to_address&sort=asc")).text
    failed = (await browser.client.get("/admin/emails/list?state=failed")).text
    found = (await browser.client.get(f"/admin/emails/list?search={bob.email}")).text
    unknown = await browser.client.get("/admin/emails/list?state=lost")

    approved = [f"Approved: ticket #{ticket['id']}, $20.00" for ticket in tickets]
    assert listed(everything) == [
        (alice.email, approved[0], "Sent"),
        (bob.email, approved[1], "Waiting"),
        (chen.email, approved[2], "Failed"),
    ]
    assert "next try" in everything and "452 Mailbox full" in everything
    # A long error is cut in the list; its tooltip has it whole.
    [(whole, shown)] = re.findall(
        r'<span class="last-error" title="([^"]*No such mailbox[^"]*)">([^<]*)</span>', everything
    )
    assert whole.endswith("x" * 200)
    assert len(shown) == 80 and shown.endswith("x…")
    assert listed(failed) == [(chen.email, approved[2], "Failed")]
    assert listed(found) == [(bob.email, approved[1], "Waiting")]
    assert unknown.status_code == 400
    assert "choose waiting, sent or failed" in unknown.text


async def test_an_email_whose_payload_cannot_be_read_is_still_listed(app, browser, factory):
    database: Database = app.state.database
    boss, alice = await factory.employer(), await factory.employee()
    await _approve(factory, boss, (await factory.ticket(alice))["id"])
    await _set(database, alice.email, payload={"tickets": []}, failed_at=func.now())
    await browser.login_as(boss)

    page = await browser.client.get("/admin/emails/list")

    assert page.status_code == 200
    assert listed(page.text) == [(alice.email, "Unreadable tickets_approved email", "Failed")]


async def test_a_suspended_employees_emails_are_hidden_with_their_tickets(app, browser, factory):
    boss = await factory.employer()
    alice, bob = await factory.employee(), await factory.employee()
    for person in (alice, bob):
        await _approve(factory, boss, (await factory.ticket(person))["id"])
    suspended = await factory.client.post(
        f"/api/employees/{alice.id}/suspend", headers=boss.headers
    )
    assert suspended.status_code == 200, suspended.text
    await browser.login_as(boss)

    page = (await browser.client.get("/admin/emails/list")).text

    assert [to for to, _, _ in listed(page)] == [bob.email]


async def test_only_employers_see_the_emails(client, factory):
    alice = await factory.employee()

    as_employee = await client.get("/admin/emails/list", headers=alice.headers)

    assert as_employee.status_code == 302  # to the console's login
