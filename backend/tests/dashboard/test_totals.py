"""The dashboard's running totals stay equal to a recount of the tickets, whatever mix of
filings, edits, decisions, suspensions and reactivations happens, at once or in turn."""

import asyncio
from datetime import date

import asyncpg
from httpx import Response

from contoso.dashboard import totals
from contoso.employees import service as employees_service
from contoso.models import TicketStatus, User
from contoso.tickets import service as tickets_service
from tests.support.databases import plain_url
from tests.support.totals import stored_and_recounted


def day_in_month(back: int) -> str:
    """A past day `back` months before this one (today for this month)."""
    today = date.today()
    if back == 0:
        return today.isoformat()
    index = today.year * 12 + today.month - 1 - back
    return date(index // 12, index % 12 + 1, 15).isoformat()


async def assert_totals_match_a_recount(database_url: str) -> None:
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        stored, recounted = await stored_and_recounted(connection)
    finally:
        await connection.close()
    assert stored == recounted


async def test_totals_follow_each_kind_of_change_in_turn(client, factory, database_url):
    alice, bob, boss = await factory.employee(), await factory.employee(), await factory.employer()
    a1 = await factory.ticket(alice, amount="100.00", spent_on=day_in_month(0))
    a2 = await factory.ticket(alice, amount="20.00", spent_on=day_in_month(1))
    b1 = await factory.ticket(bob, amount="7.50", spent_on=day_in_month(0))
    b2 = await factory.ticket(bob, amount="1000000.00", spent_on=day_in_month(2))
    await assert_totals_match_a_recount(database_url)

    # An edit of the amount, then of the month.
    edited = await client.patch(
        f"/api/tickets/{a1['id']}", json={"amount": "120.00"}, headers=alice.headers
    )
    assert edited.status_code == 200
    moved = await client.patch(
        f"/api/tickets/{a2['id']}", json={"spent_on": day_in_month(3)}, headers=alice.headers
    )
    assert moved.status_code == 200
    await assert_totals_match_a_recount(database_url)

    # A single decision each way, then a bulk one.
    assert (await client.post(f"/api/tickets/{a1['id']}/approve", headers=boss.headers)).is_success
    assert (await client.post(f"/api/tickets/{b2['id']}/deny", headers=boss.headers)).is_success
    await assert_totals_match_a_recount(database_url)
    bulk = await client.post(
        "/api/tickets/decisions",
        json={"ticket_ids": [a2["id"], b1["id"], a1["id"]], "decision": "approve"},
        headers=boss.headers,
    )
    assert len(bulk.json()["decided"]) == 2
    await assert_totals_match_a_recount(database_url)

    # Bob's tickets leave with him and come back with him.
    assert (await client.post(f"/api/employees/{bob.id}/suspend", headers=boss.headers)).is_success
    await assert_totals_match_a_recount(database_url)
    await client.post(f"/api/employees/{bob.id}/reactivate", headers=boss.headers)
    await assert_totals_match_a_recount(database_url)


async def test_concurrent_changes_never_lose_an_increment(client, factory, database_url):
    employees = [await factory.employee() for _ in range(4)]
    bosses = [await factory.employer() for _ in range(2)]
    tickets = [
        await factory.ticket(employees[n % 4], amount=f"{n + 1}.25", spent_on=day_in_month(n % 3))
        for n in range(24)
    ]
    ids = [ticket["id"] for ticket in tickets]
    # The fourth employee goes back and forth while everyone else works.
    flipping = employees[3]

    for round_number in range(3):
        state = "suspend" if round_number % 2 == 0 else "reactivate"
        chunk = ids[round_number * 8 : round_number * 8 + 8]
        answers = await asyncio.gather(
            *(
                factory.ticket(employee, amount="3.00", spent_on=day_in_month(n % 2))
                for n, employee in enumerate(employees[:3] * 3)
            ),
            client.post(
                "/api/tickets/decisions",
                json={"ticket_ids": chunk, "decision": "approve"},
                headers=bosses[0].headers,
            ),
            client.post(
                "/api/tickets/decisions",
                json={"ticket_ids": chunk[2:] + ids[-4:], "decision": "deny"},
                headers=bosses[1].headers,
            ),
            *(
                client.post(f"/api/tickets/{ticket_id}/approve", headers=bosses[1].headers)
                for ticket_id in chunk[:4]
            ),
            *(
                client.patch(
                    f"/api/tickets/{ticket['id']}",
                    json={"amount": "9.99", "spent_on": day_in_month(round_number)},
                    headers=employees[0].headers,
                )
                for ticket in tickets[::4]
            ),
            client.post(f"/api/employees/{flipping.id}/{state}", headers=bosses[0].headers),
        )
        # Every request was answered: a decided or hidden ticket is a 4xx, never a 5xx.
        responses = [answer for answer in answers if isinstance(answer, Response)]
        assert all(response.status_code < 500 for response in responses)
        await assert_totals_match_a_recount(database_url)


async def _user(session, user_id: int) -> User:
    user = await session.get(User, user_id)
    assert user is not None
    return user


async def test_a_decision_that_waits_for_a_suspension_skips_the_hidden_ticket(
    app, factory, database_url
):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice, amount="40.00")
    sessions = app.state.database.sessionmaker

    async with sessions() as suspending, sessions() as deciding:
        await employees_service.suspend_employees(
            suspending, await _user(suspending, boss.id), [alice.id]
        )
        employer = await _user(deciding, boss.id)
        decision = asyncio.create_task(
            tickets_service.decide_tickets(
                deciding, employer, [ticket["id"]], TicketStatus.APPROVED
            )
        )
        await asyncio.sleep(0.3)
        assert not decision.done()  # it waits for the suspension's row lock
        await suspending.commit()
        outcome = await decision
        await deciding.commit()

    assert outcome.decided == []  # the ticket was hidden by then
    await assert_totals_match_a_recount(database_url)


async def test_a_suspension_that_waits_for_a_decision_takes_the_decided_ticket_out(
    app, factory, database_url
):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice, amount="40.00")
    sessions = app.state.database.sessionmaker

    async with sessions() as deciding, sessions() as suspending:
        outcome = await tickets_service.decide_tickets(
            deciding, await _user(deciding, boss.id), [ticket["id"]], TicketStatus.APPROVED
        )
        employer = await _user(suspending, boss.id)
        suspension = asyncio.create_task(
            employees_service.suspend_employees(suspending, employer, [alice.id])
        )
        await asyncio.sleep(0.3)
        assert not suspension.done()  # it waits for the decision's hold on alice's row
        await deciding.commit()
        await suspension
        await suspending.commit()

    assert outcome.decided == [ticket["id"]]
    await assert_totals_match_a_recount(database_url)


async def test_a_rebuild_from_the_tickets_finds_what_the_services_kept(
    app, client, factory, database_url
):
    alice, boss = await factory.employee(), await factory.employer()
    paid = await factory.ticket(alice, spent_on=day_in_month(1))
    await factory.ticket(alice)
    await client.post(f"/api/tickets/{paid['id']}/approve", headers=boss.headers)
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        kept, _ = await stored_and_recounted(connection)
        async with app.state.database.engine.begin() as rebuilding:
            await totals.recount(rebuilding)
        rebuilt, _ = await stored_and_recounted(connection)
    finally:
        await connection.close()

    assert rebuilt == kept
    assert kept["pending"] and kept["decided"]
