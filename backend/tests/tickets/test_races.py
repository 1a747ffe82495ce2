"""Concurrent requests on real connections: each decision happens exactly once."""

import asyncio

from sqlalchemy import text


async def _history_count(app, ticket_ids, kinds=("ticket_approved", "ticket_denied")):
    async with app.state.database.engine.connect() as connection:
        return await connection.scalar(
            text(
                "SELECT count(*) FROM events"
                " WHERE ticket_id = ANY(:ids) AND kind::text = ANY(:kinds)"
            ),
            {"ids": list(ticket_ids), "kinds": list(kinds)},
        )


async def test_racing_approvals_and_denials_produce_exactly_one_decision(
    client, factory, app, figures
):
    alice = await factory.employee()
    bosses = [await factory.employer() for _ in range(2)]
    ticket = await factory.ticket(alice)

    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/tickets/{ticket['id']}/{'approve' if n % 2 else 'deny'}",
                headers=bosses[n % 2].headers,
            )
            for n in range(50)
        )
    )

    codes = [response.status_code for response in responses]
    assert codes.count(200) == 1
    assert codes.count(409) == 49
    winner = next(response.json() for response in responses if response.status_code == 200)
    final = await client.get(f"/api/tickets/{ticket['id']}", headers=alice.headers)
    assert final.json()["status"] == winner["status"]
    assert await _history_count(app, [ticket["id"]]) == 1
    figures.add("races: 50 approve/deny on one ticket", requests=50, decisions=1)


async def test_overlapping_bulk_decisions_decide_each_ticket_once(client, factory, app, figures):
    alice = await factory.employee()
    first_boss, second_boss = await factory.employer(), await factory.employer()
    ids = [(await factory.ticket(alice))["id"] for _ in range(40)]

    first, second = await asyncio.gather(
        client.post(
            "/api/tickets/decisions",
            json={"ticket_ids": ids[:30], "decision": "approve"},
            headers=first_boss.headers,
        ),
        client.post(
            "/api/tickets/decisions",
            json={"ticket_ids": ids[10:], "decision": "deny"},
            headers=second_boss.headers,
        ),
    )

    decided = first.json()["decided"] + second.json()["decided"]
    assert sorted(decided) == sorted(ids)  # every ticket named once as decided
    # Each ticket both asked for was decided by one of them and skipped by the other.
    skipped = first.json()["skipped"] + second.json()["skipped"]
    assert sorted(item["id"] for item in skipped) == ids[10:30]
    assert {item["reason"] for item in skipped} == {"already_decided"}
    assert await _history_count(app, ids) == 40
    figures.add("races: overlapping bulk decisions", tickets=40, overlap=20, decided_once=40)


async def test_an_edit_racing_a_decision_never_changes_a_decided_ticket(client, factory):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice, amount="10.00")

    edit, decision = await asyncio.gather(
        client.patch(
            f"/api/tickets/{ticket['id']}", json={"amount": "99.00"}, headers=alice.headers
        ),
        client.post(f"/api/tickets/{ticket['id']}/approve", headers=boss.headers),
    )

    final = (await client.get(f"/api/tickets/{ticket['id']}", headers=alice.headers)).json()
    assert decision.status_code == 200
    assert final["status"] == "approved"
    if edit.status_code == 200:
        assert final["amount"] == "99.00"  # edited first, then approved as edited
    else:
        assert edit.status_code == 409
        assert final["amount"] == "10.00"  # approved first; the edit was refused


async def test_suspension_racing_ticket_filing_loses_nothing(client, factory, app, figures):
    alice, boss = await factory.employee(), await factory.employer()
    body = {"spent_on": "2026-01-05", "amount": "5.00", "description": "Race"}

    async def file(after: float) -> object:
        await asyncio.sleep(after)
        return await client.post("/api/tickets", json=body, headers=alice.headers)

    async def suspend(after: float) -> object:
        await asyncio.sleep(after)
        return await client.post(f"/api/employees/{alice.id}/suspend", headers=boss.headers)

    # Filings every 10 ms for 400 ms; the suspension lands among them.
    suspension, *filings = await asyncio.gather(suspend(0.1), *(file(n * 0.005) for n in range(40)))

    assert suspension.status_code == 200
    accepted = [r.json()["id"] for r in filings if r.status_code == 201]
    assert all(r.status_code in (201, 401) for r in filings)
    async with app.state.database.engine.connect() as connection:
        stored = (
            await connection.scalars(
                text("SELECT id FROM tickets WHERE owner_id = :id"), {"id": alice.id}
            )
        ).all()
    assert sorted(stored) == sorted(accepted)  # every 201 is stored; nothing else is
    visible = await client.get("/api/tickets", headers=boss.headers)
    assert visible.json()["total"] == 0
    await client.post(f"/api/employees/{alice.id}/reactivate", headers=boss.headers)
    visible = await client.get("/api/tickets", headers=boss.headers)
    assert visible.json()["total"] == len(accepted)
    figures.add(
        "races: suspension vs filing",
        filings=40,
        accepted_201=len(accepted),
        refused_401=len(filings) - len(accepted),
        lost=0,
    )


async def test_decisions_racing_a_payment_never_undo_it(client, factory, app):
    alice, boss = await factory.employee(), await factory.employer()
    ids = [(await factory.ticket(alice))["id"] for _ in range(10)]
    await client.post(
        "/api/tickets/decisions",
        json={"ticket_ids": ids, "decision": "approve"},
        headers=boss.headers,
    )

    payment, *decisions = await asyncio.gather(
        client.post("/api/payments", json={"ticket_ids": ids}, headers=boss.headers),
        *(
            client.post(f"/api/tickets/{ticket_id}/{verdict}", headers=boss.headers)
            for ticket_id in ids
            for verdict in ("approve", "deny")
        ),
    )

    # Approved before the race, so every decision is refused, paid or not yet.
    assert [decision.status_code for decision in decisions] == [409] * 20
    assert payment.json()["paid"] == ids
    assert await _history_count(app, ids) == 10
    assert await _history_count(app, ids, kinds=("ticket_paid",)) == 10


async def test_twenty_overlapping_bulk_approvals_decide_each_ticket_once(
    client, factory, app, figures
):
    employees = [await factory.employee() for _ in range(5)]
    bosses = [await factory.employer() for _ in range(3)]
    ids = [(await factory.ticket(employee))["id"] for employee in employees for _ in range(40)]
    # Each batch names 40 tickets across employees; every ticket is named by four.
    batches = [[ids[(start * 10 + n) % 200] for n in range(40)] for start in range(20)]

    responses = await asyncio.gather(
        *(
            client.post(
                "/api/tickets/decisions",
                json={"ticket_ids": batch, "decision": "approve"},
                headers=bosses[n % 3].headers,
            )
            for n, batch in enumerate(batches)
        )
    )

    assert {response.status_code for response in responses} == {200}
    decided = [ticket_id for response in responses for ticket_id in response.json()["decided"]]
    assert sorted(decided) == sorted(ids)  # each once, by one batch
    assert await _history_count(app, ids) == 200
    figures.add("races: 20 overlapping bulk approvals", tickets=200, decided_once=len(decided))
