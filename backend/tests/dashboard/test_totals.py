"""The dashboard's running totals stay equal to a recount of the tickets, whatever mix of
filings, edits, decisions, payments, suspensions and reactivations happens, at once or in
turn."""

import asyncio
from datetime import date, datetime
from decimal import Decimal

import asyncpg
from httpx import Response
from sqlalchemy import DateTime, Numeric, column, select, text, values

from contoso.dashboard import service as dashboard_service
from contoso.dashboard import totals
from contoso.employees import service as employees_service
from contoso.models import PaidTotal, TicketStatus, User
from contoso.tickets import service as tickets_service
from contoso.tickets.workflow import COUNTED_IN
from tests.support.databases import plain_url
from tests.support.locks import blocked_behind
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

    # A payment moves approved tickets to paid, counted in the month they were paid.
    paid = await client.post(
        "/api/payments", json={"ticket_ids": [a1["id"], b1["id"]]}, headers=boss.headers
    )
    assert paid.json()["paid"] == sorted([a1["id"], b1["id"]])
    await assert_totals_match_a_recount(database_url)

    # Bob's tickets, paid ones too, leave with him and come back with him.
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
            # Whatever is approved by then is paid, by two batches that overlap.
            *(
                client.post("/api/payments", json={"ticket_ids": ids}, headers=boss.headers)
                for boss in bosses
            ),
        )
        # Every request was answered: a decided, paid or hidden ticket is a 4xx, never a 5xx.
        responses = [answer for answer in answers if isinstance(answer, Response)]
        assert all(response.status_code < 500 for response in responses)
        await assert_totals_match_a_recount(database_url)
    paid = await client.get("/api/tickets?status=paid", headers=bosses[0].headers)
    assert paid.json()["total"] > 0  # the payments were in the mix


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
        # The decision waits for the suspension's lock on alice's row.
        await blocked_behind(suspending, decision, row_of="users")
        await suspending.commit()
        outcome = await decision
        await deciding.commit()

    assert outcome.done == []  # the ticket was hidden by then
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
        # The suspension waits for the decision's hold on alice's row.
        await blocked_behind(deciding, suspension, row_of="users")
        await deciding.commit()
        await suspension
        await suspending.commit()

    assert outcome.done == [ticket["id"]]
    await assert_totals_match_a_recount(database_url)


async def test_a_rebuild_from_the_tickets_finds_what_the_services_kept(
    app, client, factory, database_url
):
    alice, boss = await factory.employee(), await factory.employer()
    paid = await factory.ticket(alice, spent_on=day_in_month(1))
    approved = await factory.ticket(alice, spent_on=day_in_month(2))
    await factory.ticket(alice)
    for ticket in (paid, approved):
        await client.post(f"/api/tickets/{ticket['id']}/approve", headers=boss.headers)
    await client.post("/api/payments", json={"ticket_ids": [paid["id"]]}, headers=boss.headers)
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        kept, _ = await stored_and_recounted(connection)
        async with app.state.database.engine.begin() as rebuilding:
            await totals.recount(rebuilding, COUNTED_IN)
        rebuilt, _ = await stored_and_recounted(connection)
    finally:
        await connection.close()

    assert rebuilt == kept
    assert kept["pending"] and kept["paid"]
    assert {status for _, status in kept["decided"]} == {"approved", "paid"}


async def test_payments_are_counted_in_their_month_in_utc_whatever_the_sessions_zone(app):
    paid = values(
        column("paid_at", DateTime(timezone=True)),
        column("company_amount", Numeric(12, 2)),
        name="paid",
    ).data(
        [
            # 1 March in Shanghai, still February in UTC.
            (datetime.fromisoformat("2026-02-28T23:30:00+00:00"), Decimal("10.00")),
            (datetime.fromisoformat("2026-03-01T07:59:00+08:00"), Decimal("5.00")),
            (datetime.fromisoformat("2026-03-01T08:00:00+08:00"), Decimal("1.00")),
        ]
    )

    async with app.state.database.engine.connect() as connection:
        await connection.execute(text("SET LOCAL TIME ZONE 'Asia/Shanghai'"))
        await connection.execute(totals.count_paid(paid, 1))
        counted = (await connection.execute(select(PaidTotal).order_by(PaidTotal.month))).all()
        await connection.rollback()

    assert [tuple(row) for row in counted] == [
        (date(2026, 2, 1), 2, Decimal("15.00")),
        (date(2026, 3, 1), 1, Decimal("1.00")),
    ]


async def test_the_dashboard_shows_paid_tickets_as_approved_and_no_longer_owed(
    app, client, factory
):
    alice, boss = await factory.employee(), await factory.employer()
    paid = await factory.ticket(alice, amount="100.00", spent_on=day_in_month(0))
    owed = await factory.ticket(alice, amount="30.00", spent_on=day_in_month(1))
    for ticket in (paid, owed):
        await client.post(f"/api/tickets/{ticket['id']}/approve", headers=boss.headers)
    sessions = app.state.database.sessionmaker

    async def figures() -> dashboard_service.Dashboard:
        async with sessions() as session:
            return await dashboard_service.dashboard(session, await _user(session, boss.id))

    before = await figures()
    await client.post("/api/payments", json={"ticket_ids": [paid["id"]]}, headers=boss.headers)
    after = await figures()
    await client.post(f"/api/employees/{alice.id}/suspend", headers=boss.headers)
    hidden = await figures()

    assert (before.awaiting_payment, before.awaiting_payment_amount) == (2, Decimal("130.00"))
    assert (before.paid_this_month, before.paid_amount_this_month) == (0, Decimal("0.00"))
    assert (after.awaiting_payment, after.awaiting_payment_amount) == (1, Decimal("30.00"))
    assert (after.paid_this_month, after.paid_amount_this_month) == (1, Decimal("100.00"))
    # Paid was approved first: it stays in the approvals and in the month's spend.
    assert (after.approved_this_month, after.approved_amount_this_month) == (
        2,
        Decimal("130.00"),
    )
    assert after.monthly[-1].approved == Decimal("100.00")
    assert (hidden.awaiting_payment, hidden.paid_this_month, hidden.approved_this_month) == (
        0,
        0,
        0,
    )


async def test_the_dashboard_adds_tickets_in_every_currency_as_company_amounts(
    app, client, factory, database_url
):
    alice, bob, boss = await factory.employee(), await factory.employee(), await factory.employer()
    since = date.today().replace(day=1)
    await factory.rate(boss, "EUR", "1.1512", since)
    await factory.rate(boss, "JPY", "0.006336066927", since)
    alices = [
        await factory.ticket(alice, amount="12.50"),
        await factory.ticket(alice, "EUR", amount="33.33"),  # $38.369496: 38.37
        await factory.ticket(alice, "JPY", amount="1500"),  # $9.5041003905: 9.50
    ]
    bobs = [
        await factory.ticket(bob, "EUR", amount="0.05"),  # $0.05756: 0.06
        await factory.ticket(bob, "JPY", amount="25000"),  # $158.401673175: 158.40
    ]
    sessions = app.state.database.sessionmaker

    async def figures() -> dashboard_service.Dashboard:
        async with sessions() as session:
            return await dashboard_service.dashboard(session, await _user(session, boss.id))

    pending = await figures()
    await client.post(
        "/api/tickets/decisions",
        json={"ticket_ids": [t["id"] for t in alices + bobs], "decision": "approve"},
        headers=boss.headers,
    )
    approved = await figures()
    await client.post(
        "/api/payments", json={"ticket_ids": [t["id"] for t in alices]}, headers=boss.headers
    )
    paid = await figures()

    assert [Decimal(t["company_amount"]) for t in alices + bobs] == [
        Decimal("12.50"),
        Decimal("38.37"),
        Decimal("9.50"),
        Decimal("0.06"),
        Decimal("158.40"),
    ]
    assert (pending.pending_count, pending.pending_amount) == (5, Decimal("218.83"))
    assert [(top.owner_id, top.pending_amount) for top in pending.top_pending] == [
        (bob.id, Decimal("158.46")),
        (alice.id, Decimal("60.37")),
    ]
    assert pending.monthly[-1].pending == Decimal("218.83")
    assert approved.approved_amount_this_month == Decimal("218.83")
    assert approved.awaiting_payment_amount == Decimal("218.83")
    assert approved.monthly[-1].approved == Decimal("218.83")
    assert (paid.paid_this_month, paid.paid_amount_this_month) == (3, Decimal("60.37"))
    assert (paid.awaiting_payment, paid.awaiting_payment_amount) == (2, Decimal("158.46"))
    await assert_totals_match_a_recount(database_url)
