"""Employers file their own expenses, and nobody decides, sends back or pays their own
ticket: singly a 403 that says so, in bulk skipped as `own_ticket`; another employer may."""

from datetime import date

from tests.receipts.test_endpoints import MINIMAL_PDF
from tests.support.factories import Account, Factory

NOBODY_ON_THEIR_OWN = "nobody acts on their own ticket; another employer has to"


async def _own_ticket(factory: Factory) -> tuple[Account, Account, dict]:
    boss, other_boss = await factory.employer(), await factory.employer()
    return boss, other_boss, await factory.ticket(boss, description="Train to the fair")


async def test_an_employer_cannot_decide_their_own_ticket(client, factory):
    boss, other_boss, ticket = await _own_ticket(factory)
    url = f"/api/tickets/{ticket['id']}"

    refused = [
        await client.post(f"{url}/approve", json={}, headers=boss.headers),
        await client.post(f"{url}/deny", json={"note": "no"}, headers=boss.headers),
        await client.post(f"{url}/request-changes", json={"note": "why"}, headers=boss.headers),
    ]
    still = await client.get(url, headers=boss.headers)
    approved = await client.post(f"{url}/approve", json={}, headers=other_boss.headers)

    for answer in refused:
        assert answer.status_code == 403, answer.text
        assert NOBODY_ON_THEIR_OWN in answer.json()["detail"]
    assert still.json()["status"] == "pending"
    assert approved.status_code == 200, approved.text
    assert approved.json()["decided_by"]["id"] == other_boss.id


async def test_bulk_decisions_skip_the_employers_own_tickets(client, factory):
    boss, _, own = await _own_ticket(factory)
    alice = await factory.employee()
    theirs = await factory.ticket(alice)

    report = await client.post(
        "/api/tickets/decisions",
        json={"decision": "approve", "ticket_ids": [own["id"], theirs["id"]]},
        headers=boss.headers,
    )

    assert report.status_code == 200, report.text
    assert report.json() == {
        "decided": [theirs["id"]],
        "skipped": [{"id": own["id"], "reason": "own_ticket"}],
    }


async def test_an_employer_cannot_pay_their_own_ticket(client, factory):
    boss, other_boss, own = await _own_ticket(factory)
    alice = await factory.employee()
    theirs = await factory.ticket(alice)
    for ticket in (own, theirs):
        approved = await client.post(
            f"/api/tickets/{ticket['id']}/approve", json={}, headers=other_boss.headers
        )
        assert approved.status_code == 200, approved.text

    alone = await client.post(
        "/api/payments", json={"ticket_ids": [own["id"]]}, headers=boss.headers
    )
    both = await client.post(
        "/api/payments", json={"ticket_ids": [own["id"], theirs["id"]]}, headers=boss.headers
    )
    by_another = await client.post(
        "/api/payments", json={"ticket_ids": [own["id"]]}, headers=other_boss.headers
    )

    assert alone.status_code == 409
    assert "your own (another employer acts on it)" in alone.json()["detail"]
    assert both.status_code == 201, both.text
    assert both.json()["skipped"] == [{"id": own["id"], "reason": "own_ticket"}]
    assert [share["tickets"] for share in both.json()["employees"]] == [[theirs["id"]]]
    assert by_another.status_code == 201, by_another.text


async def test_an_employer_edits_and_resubmits_their_own_ticket(client, factory):
    boss, other_boss, own = await _own_ticket(factory)
    url = f"/api/tickets/{own['id']}"
    sent_back = await client.post(
        f"{url}/request-changes", json={"note": "Add the receipt"}, headers=other_boss.headers
    )
    assert sent_back.status_code == 200, sent_back.text

    edited = await client.patch(url, json={"amount": "12.00"}, headers=boss.headers)
    resubmitted = await client.post(f"{url}/resubmit", headers=boss.headers)
    by_another = await client.patch(url, json={"amount": "1.00"}, headers=other_boss.headers)

    assert edited.status_code == 200, edited.text
    assert resubmitted.status_code == 200, resubmitted.text
    assert resubmitted.json()["status"] == "pending"
    # Another employer sees it, but only its owner changes it.
    assert by_another.status_code == 404


async def test_an_employer_adds_a_receipt_to_their_own_ticket_only(client, factory):
    boss, other_boss, own = await _own_ticket(factory)
    url = f"/api/tickets/{own['id']}/receipts"
    files = {"file": ("ticket.pdf", MINIMAL_PDF, "application/pdf")}

    mine = await client.post(url, files=files, headers=boss.headers)
    theirs = await client.post(url, files=files, headers=other_boss.headers)

    assert mine.status_code == 201, mine.text
    assert theirs.status_code == 403
    assert (
        theirs.json()["detail"] == f"Only its owner can change the receipts of ticket {own['id']}."
    )


async def test_the_filing_date_rules_hold_for_employers_too(client, factory):
    boss = await factory.employer()
    tomorrow = date.fromordinal(date.today().toordinal() + 2).isoformat()

    answer = await client.post(
        "/api/tickets",
        json={"spent_on": tomorrow, "amount": "5", "description": "Later"},
        headers=boss.headers,
    )

    assert answer.status_code == 422
