"""Payments racing each other, decisions and suspensions on real connections: each
ticket is paid at most once, only while approved and visible, and the dashboard's
totals stay equal to a recount."""

import asyncio
from collections.abc import Awaitable
from decimal import Decimal

import asyncpg
import pytest
from httpx import Response

from contoso.employees import service as employees_service
from contoso.errors import Conflict
from contoso.models import TicketStatus, User
from contoso.payments import service as payments_service
from contoso.tickets import service as tickets_service
from tests.support.databases import plain_url
from tests.support.locks import blocked_behind
from tests.support.totals import stored_and_recounted


async def pay(client, employer, ticket_ids, reference=None):
    body: dict = {"ticket_ids": ticket_ids}
    if reference is not None:
        body["reference"] = reference
    return await client.post("/api/payments", json=body, headers=employer.headers)


async def assert_totals_match_a_recount(database_url) -> None:
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        stored, recounted = await stored_and_recounted(connection)
    finally:
        await connection.close()
    assert stored == recounted


async def paid_rows(database_url, ticket_ids) -> dict:
    """Per ticket: its status, its payment, and how many ticket_paid rows it has."""
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        rows = await connection.fetch(
            """
            SELECT t.id, t.status::text AS status, t.payment_id,
                   (SELECT count(*) FROM events e
                    WHERE e.ticket_id = t.id AND e.kind = 'ticket_paid') AS events
            FROM tickets t WHERE t.id = ANY($1::bigint[])
            """,
            list(ticket_ids),
        )
    finally:
        await connection.close()
    return {row["id"]: (row["status"], row["payment_id"], row["events"]) for row in rows}


async def test_overlapping_batches_pay_each_ticket_exactly_once(
    client, factory, approved, database_url, figures
):
    employees = [await factory.employee() for _ in range(5)]
    bosses = [await factory.employer() for _ in range(3)]
    tickets = []
    for employee in employees:
        tickets += await approved(employee, bosses[0], 40)
    ids = [ticket["id"] for ticket in tickets]
    # Each batch names 40 tickets, from both ends so batches cross employees; every
    # ticket is named by four of the twenty.
    batches = [[ids[(start * 10 + n) % 200] for n in range(40)] for start in range(20)]
    batches = [batch[::2] + batch[-1::-2] for batch in batches]

    responses = await asyncio.gather(
        *(pay(client, bosses[n % 3], batch) for n, batch in enumerate(batches))
    )

    codes = [response.status_code for response in responses]
    assert set(codes) <= {201, 409}, codes
    reports = [response.json() for response in responses if response.status_code == 201]
    paid = [ticket_id for report in reports for ticket_id in report["paid"]]
    assert len(paid) == 200
    assert sorted(paid) == sorted(ids)  # none in two payments, none left out
    assert {skip["reason"] for report in reports for skip in report["skipped"]} <= {"already_paid"}
    rows = await paid_rows(database_url, ids)
    payment_of = {ticket_id: report["id"] for report in reports for ticket_id in report["paid"]}
    assert rows == {ticket_id: ("paid", payment_of[ticket_id], 1) for ticket_id in ids}
    # Each batch's count and total are exactly what it paid, and they add up.
    amounts = {ticket["id"]: Decimal(ticket["amount"]) for ticket in tickets}
    for report in reports:
        assert report["tickets"] == len(report["paid"])
        assert Decimal(report["total"]) == sum(amounts[i] for i in report["paid"])
    assert sum(Decimal(report["total"]) for report in reports) == sum(amounts.values())
    listed = (await client.get("/api/payments?limit=200", headers=bosses[0].headers)).json()
    assert listed["total"] == len(reports)
    await assert_totals_match_a_recount(database_url)
    figures.add(
        "races: 20 overlapping payment batches",
        batches=20,
        tickets=200,
        paid_once=len(set(paid)),
        refused_409=codes.count(409),
    )


async def test_two_payments_with_one_reference_record_one(client, factory, approved, database_url):
    alice, boss = await factory.employee(), await factory.employer()
    tickets = await approved(alice, boss, 5)

    responses = await asyncio.gather(
        *(pay(client, boss, [ticket["id"]], "BANK-RUN-9") for ticket in tickets)
    )

    codes = sorted(response.status_code for response in responses)
    assert codes == [201, 409, 409, 409, 409]
    [winner] = [response.json() for response in responses if response.status_code == 201]
    rows = await paid_rows(database_url, [ticket["id"] for ticket in tickets])
    assert [ticket_id for ticket_id, row in rows.items() if row[0] == "paid"] == winner["paid"]
    assert all(row == ("approved", None, 0) for i, row in rows.items() if i not in winner["paid"])
    await assert_totals_match_a_recount(database_url)


async def test_a_payment_racing_an_approval_pays_only_an_approved_ticket(
    client, factory, database_url
):
    alice, deciding, paying = (
        await factory.employee(),
        await factory.employer(),
        await factory.employer(),
    )
    tickets = [await factory.ticket(alice) for _ in range(20)]

    answers = await asyncio.gather(
        *(
            request
            for ticket in tickets
            for request in (
                client.post(f"/api/tickets/{ticket['id']}/approve", headers=deciding.headers),
                pay(client, paying, [ticket["id"]]),
            )
        )
    )

    rows = await paid_rows(database_url, [ticket["id"] for ticket in tickets])
    for ticket, approval, payment in zip(tickets, answers[::2], answers[1::2], strict=True):
        assert approval.status_code == 200  # a payment never stands in a decision's way
        if payment.status_code == 201:  # approved first, then paid
            assert rows[ticket["id"]] == ("paid", payment.json()["id"], 1)
        else:  # paid for before it was approved: refused, and left approved
            assert payment.status_code == 409
            assert "not approved" in payment.json()["detail"]
            assert rows[ticket["id"]] == ("approved", None, 0)
    await assert_totals_match_a_recount(database_url)


async def test_a_payment_racing_a_denial_never_pays(client, factory, database_url):
    alice, deciding, paying = (
        await factory.employee(),
        await factory.employer(),
        await factory.employer(),
    )
    tickets = [await factory.ticket(alice) for _ in range(20)]

    answers = await asyncio.gather(
        *(
            request
            for ticket in tickets
            for request in (
                client.post(f"/api/tickets/{ticket['id']}/deny", headers=deciding.headers),
                pay(client, paying, [ticket["id"]]),
            )
        )
    )

    assert [answer.status_code for answer in answers] == [200, 409] * 20
    rows = await paid_rows(database_url, [ticket["id"] for ticket in tickets])
    assert set(rows.values()) == {("denied", None, 0)}
    await assert_totals_match_a_recount(database_url)


async def test_approving_denying_and_paying_at_once_pays_only_an_approval_that_came_first(
    client, factory, database_url
):
    alice, boss = await factory.employee(), await factory.employer()
    tickets = [await factory.ticket(alice) for _ in range(20)]
    ids = [ticket["id"] for ticket in tickets]

    answers = await asyncio.gather(
        *(
            request
            for ticket in tickets
            for request in (
                client.post(f"/api/tickets/{ticket['id']}/approve", headers=boss.headers),
                client.post(f"/api/tickets/{ticket['id']}/deny", headers=boss.headers),
                pay(client, boss, [ticket["id"]]),
            )
        )
    )

    rows = await paid_rows(database_url, ids)
    triples = zip(ids, answers[::3], answers[1::3], answers[2::3], strict=True)
    for ticket_id, approval, denial, payment in triples:
        # One decision each; the payment pays only a ticket the approval won.
        assert sorted([approval.status_code, denial.status_code]) == [200, 409]
        if payment.status_code == 201:
            assert approval.status_code == 200
            assert rows[ticket_id] == ("paid", payment.json()["id"], 1)
        else:
            assert payment.status_code == 409
            decided = "approved" if approval.status_code == 200 else "denied"
            assert rows[ticket_id] == (decided, None, 0)
    await assert_totals_match_a_recount(database_url)


async def test_paying_while_the_owner_is_suspended_keeps_the_totals_true(
    client, factory, approved, database_url, figures
):
    boss = await factory.employer()
    outcomes = []
    for round_number in range(6):
        alice, bob = await factory.employee(), await factory.employee()
        alices, bobs = await approved(alice, boss, 3), await approved(bob, boss, 3)
        ids = [ticket["id"] for ticket in alices + bobs]

        async def after(delay: float, request: Awaitable[Response]) -> Response:
            await asyncio.sleep(delay)
            return await request

        # Either one starts first, by a little more each round.
        head_start = 0.003 * (round_number // 2)
        payment, suspension = await asyncio.gather(
            after(head_start if round_number % 2 else 0, pay(client, boss, ids)),
            after(
                0 if round_number % 2 else head_start,
                client.post(f"/api/employees/{alice.id}/suspend", headers=boss.headers),
            ),
        )

        assert (payment.status_code, suspension.status_code) == (201, 200)
        report = payment.json()
        alice_ids = {ticket["id"] for ticket in alices}
        # All of Alice's tickets were paid before she was hidden, or none was.
        assert set(report["paid"]) & alice_ids in (alice_ids, set())
        assert set(report["paid"]) >= {ticket["id"] for ticket in bobs}
        skipped = {skip["id"]: skip["reason"] for skip in report["skipped"]}
        assert skipped in ({}, dict.fromkeys(alice_ids, "not_found"))
        outcomes.append("paid" if not skipped else "skipped")
        await assert_totals_match_a_recount(database_url)
        await client.post(f"/api/employees/{alice.id}/reactivate", headers=boss.headers)
        await assert_totals_match_a_recount(database_url)
    figures.add(
        "races: payment vs suspension",
        rounds=6,
        paid_then_hidden=outcomes.count("paid"),
        skipped_as_hidden=outcomes.count("skipped"),
    )


async def _user(session, user_id: int) -> User:
    user = await session.get(User, user_id)
    assert user is not None
    return user


async def test_a_payment_that_waits_for_a_suspension_skips_the_hidden_ticket(
    app, factory, approved, database_url
):
    alice, boss = await factory.employee(), await factory.employer()
    [ticket] = await approved(alice, boss)
    sessions = app.state.database.sessionmaker

    async with sessions() as suspending, sessions() as paying:
        await employees_service.suspend_employees(
            suspending, await _user(suspending, boss.id), [alice.id]
        )
        employer = await _user(paying, boss.id)
        payment = asyncio.create_task(
            payments_service.pay_tickets(paying, employer, [ticket["id"]], "WAITED")
        )
        # The payment waits for the suspension's lock on alice's row.
        await blocked_behind(suspending, payment, row_of="users")
        await suspending.commit()
        with pytest.raises(Conflict, match="not found or hidden"):
            await payment
        await paying.rollback()

    assert (await paid_rows(database_url, [ticket["id"]]))[ticket["id"]] == ("approved", None, 0)
    await assert_totals_match_a_recount(database_url)


async def test_a_suspension_that_waits_for_a_payment_takes_the_paid_ticket_out(
    app, client, factory, approved, database_url
):
    alice, boss = await factory.employee(), await factory.employer()
    [ticket] = await approved(alice, boss)
    sessions = app.state.database.sessionmaker

    async with sessions() as paying, sessions() as suspending:
        report = await payments_service.pay_tickets(
            paying, await _user(paying, boss.id), [ticket["id"]], "FIRST"
        )
        employer = await _user(suspending, boss.id)
        suspension = asyncio.create_task(
            employees_service.suspend_employees(suspending, employer, [alice.id])
        )
        # The suspension waits for the payment's hold on alice's row.
        await blocked_behind(paying, suspension, row_of="users")
        await paying.commit()
        await suspension
        await suspending.commit()

    assert report.paid == [ticket["id"]]
    await assert_totals_match_a_recount(database_url)
    await client.post(f"/api/employees/{alice.id}/reactivate", headers=boss.headers)
    await assert_totals_match_a_recount(database_url)


async def test_a_payment_during_an_approval_not_yet_committed_leaves_the_ticket_to_it(
    app, client, factory, database_url
):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    sessions = app.state.database.sessionmaker

    async with sessions() as deciding, sessions() as paying:
        await tickets_service.decide_tickets(
            deciding, await _user(deciding, boss.id), [ticket["id"]], TicketStatus.APPROVED
        )
        # Not approved until the approval commits: the payment does not wait for it.
        with pytest.raises(Conflict, match="not approved"):
            await payments_service.pay_tickets(
                paying, await _user(paying, boss.id), [ticket["id"]], "TOO-EARLY"
            )
        await paying.rollback()
        await deciding.commit()

    assert (await paid_rows(database_url, [ticket["id"]]))[ticket["id"]] == ("approved", None, 0)
    assert (await pay(client, boss, [ticket["id"]], "ON-TIME")).status_code == 201
    await assert_totals_match_a_recount(database_url)
