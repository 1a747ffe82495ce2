"""An employer sends a ticket back for changes; its owner edits it and resubmits it."""

import asyncio

from sqlalchemy import select, text

from contoso.models import MailKind, OutboxEmail
from tests.support.totals import assert_totals_match_a_recount


async def test_a_ticket_sent_back_is_edited_resubmitted_and_approved(app, client, factory):
    boss, alice = await factory.employer(), await factory.employee()
    ticket = await factory.ticket(alice)
    url = f"/api/tickets/{ticket['id']}"

    sent_back = await client.post(
        f"{url}/request-changes", json={"note": "Attach the receipt"}, headers=boss.headers
    )
    approve_meanwhile = await client.post(f"{url}/approve", headers=boss.headers)
    edited = await client.patch(
        url, json={"description": "Taxi, receipt attached"}, headers=alice.headers
    )
    resubmitted = await client.post(f"{url}/resubmit", headers=alice.headers)
    again = await client.post(f"{url}/resubmit", headers=alice.headers)
    approved = await client.post(f"{url}/approve", headers=boss.headers)
    history = (await client.get(f"{url}/history", headers=alice.headers)).json()

    assert sent_back.status_code == 200, sent_back.text
    assert sent_back.json()["status"] == "changes_requested"
    assert sent_back.json()["changes_note"] == "Attach the receipt"
    assert sent_back.json()["changes_requested_by"]["id"] == boss.id
    assert approve_meanwhile.status_code == 409
    assert "sent back for changes" in approve_meanwhile.json()["detail"]
    assert edited.status_code == 200, edited.text
    assert resubmitted.json()["status"] == "pending"
    assert again.status_code == 409
    assert approved.json()["status"] == "approved"
    assert [entry["kind"] for entry in history] == [
        "ticket_created",
        "ticket_changes_requested",
        "ticket_edited",
        "ticket_resubmitted",
        "ticket_approved",
    ]
    async with app.state.database.sessionmaker() as session:
        kinds = (await session.scalars(select(OutboxEmail.kind).order_by(OutboxEmail.id))).all()
    assert kinds == [MailKind.CHANGES_REQUESTED, MailKind.TICKETS_APPROVED]


async def test_requesting_changes_needs_a_note_and_an_employer(client, factory):
    boss, alice = await factory.employer(), await factory.employee()
    ticket = await factory.ticket(alice)
    url = f"/api/tickets/{ticket['id']}/request-changes"

    blank = await client.post(url, json={"note": " "}, headers=boss.headers)
    by_owner = await client.post(url, json={"note": "x"}, headers=alice.headers)
    bulk = await client.post(
        "/api/tickets/decisions",
        json={"ticket_ids": [ticket["id"]], "decision": "request_changes"},
        headers=boss.headers,
    )

    assert blank.status_code == 422
    assert by_owner.status_code == 403
    assert bulk.status_code == 422
    assert "a note is required to request changes" in bulk.text


async def test_racing_requests_for_changes_and_decisions_act_once(app, client, factory, figures):
    alice = await factory.employee()
    bosses = [await factory.employer() for _ in range(3)]
    ticket = await factory.ticket(alice)
    url = f"/api/tickets/{ticket['id']}"

    def act(n: int):
        boss = bosses[n % 3]
        if n % 3 == 0:
            return client.post(
                f"{url}/request-changes", json={"note": "Why?"}, headers=boss.headers
            )
        return client.post(f"{url}/{'approve' if n % 3 == 1 else 'deny'}", headers=boss.headers)

    responses = await asyncio.gather(*(act(n) for n in range(30)))

    codes = [response.status_code for response in responses]
    assert (codes.count(200), codes.count(409)) == (1, 29)
    final = (await client.get(url, headers=alice.headers)).json()
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert final["status"] == winner["status"]
    async with app.state.database.engine.connect() as connection:
        acted = await connection.scalar(
            text(
                "SELECT count(*) FROM events"
                " WHERE ticket_id = :id AND kind::text <> 'ticket_created'"
            ),
            {"id": ticket["id"]},
        )
        mails = await connection.scalar(text("SELECT count(*) FROM outbox_emails"))
    assert (acted, mails) == (1, 1)
    await assert_totals_match_a_recount(app.state.settings.database_url)
    figures.add("races: 30 request-changes/approve/deny on one ticket", requests=30, acted=1)


async def test_a_bulk_request_skips_what_it_cannot_send_back_and_emails_each_owner_once(
    app, client, factory
):
    boss, alice, bob = await factory.employer(), await factory.employee(), await factory.employee()
    mine = [(await factory.ticket(alice))["id"] for _ in range(3)]
    bobs = (await factory.ticket(bob))["id"]
    decided = (await factory.ticket(alice))["id"]
    await client.post(f"/api/tickets/{decided}/approve", headers=boss.headers)

    first = await client.post(
        "/api/tickets/decisions",
        json={
            "ticket_ids": [*mine, bobs, decided, 999999],
            "decision": "request_changes",
            "note": "Itemised receipts, please",
        },
        headers=boss.headers,
    )
    again = await client.post(
        "/api/tickets/decisions",
        json={"ticket_ids": [mine[0]], "decision": "approve"},
        headers=boss.headers,
    )

    assert first.json()["decided"] == [*mine, bobs]
    assert first.json()["skipped"] == [
        {"id": decided, "reason": "already_decided"},
        {"id": 999999, "reason": "not_found"},
    ]
    assert again.json()["skipped"] == [{"id": mine[0], "reason": "changes_requested"}]
    async with app.state.database.sessionmaker() as session:
        mails = (
            await session.scalars(
                select(OutboxEmail)
                .where(OutboxEmail.kind == MailKind.CHANGES_REQUESTED)
                .order_by(OutboxEmail.user_id)
            )
        ).all()
    assert [(m.to_address, [t["id"] for t in m.payload["tickets"]]) for m in mails] == [
        (alice.email, mine),
        (bob.email, [bobs]),
    ]
    assert mails[0].payload["note"] == "Itemised receipts, please"
    assert mails[0].payload["by"] == boss.username
    await assert_totals_match_a_recount(app.state.settings.database_url)


async def test_a_ticket_sent_back_takes_receipts_and_leaves_the_pending_totals_until_resubmitted(
    app, client, factory
):
    boss, alice = await factory.employer(), await factory.employee()
    ticket = await factory.ticket(alice)
    url = f"/api/tickets/{ticket['id']}"

    await client.post(f"{url}/request-changes", json={"note": "Receipt?"}, headers=boss.headers)
    await assert_totals_match_a_recount(app.state.settings.database_url)
    uploaded = await client.post(
        f"{url}/receipts",
        files={
            "file": (
                "r.pdf",
                b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
                "application/pdf",
            )
        },
        headers=alice.headers,
    )
    # Edited while sent back: another amount and another month, still out of the totals.
    edited = await client.patch(
        url, json={"amount": "99.00", "spent_on": "2025-01-31"}, headers=alice.headers
    )
    await assert_totals_match_a_recount(app.state.settings.database_url)
    await client.post(f"{url}/resubmit", headers=alice.headers)

    assert uploaded.status_code == 201, uploaded.text
    assert edited.status_code == 200, edited.text
    await assert_totals_match_a_recount(app.state.settings.database_url)
