"""Paying approved tickets in batches through the API: what a batch pays and skips, what
it refuses, how it is listed and exported, and what a paid ticket becomes."""

import csv
import io
import re
from datetime import date
from decimal import Decimal

import asyncpg
import pytest

from tests.support.databases import plain_url
from tests.support.totals import stored_and_recounted

# A PDF as the receipts service accepts it (the README's story uses the same).
RECEIPT = b"%PDF-1.4\n% taxi receipt 42.50\n%%EOF\n"


async def pay(client, employer, ticket_ids, reference=None):
    body: dict = {"ticket_ids": ticket_ids}
    if reference is not None:
        body["reference"] = reference
    return await client.post("/api/payments", json=body, headers=employer.headers)


async def history_kinds(client, viewer, ticket):
    response = await client.get(f"/api/tickets/{ticket['id']}/history", headers=viewer.headers)
    return [entry["kind"] for entry in response.json()]


async def what_is_recorded(database_url) -> dict:
    """Payments, ticket_paid history rows and paid tickets in the database, with the
    dashboard's totals as stored."""
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        stored, recounted = await stored_and_recounted(connection)
        assert stored == recounted
        return {
            "payments": await connection.fetchval("SELECT count(*) FROM payments"),
            "ticket_paid": await connection.fetchval(
                "SELECT count(*) FROM events WHERE kind = 'ticket_paid'"
            ),
            "paid tickets": await connection.fetchval(
                "SELECT count(*) FROM tickets WHERE status = 'paid'"
            ),
            "totals": stored,
        }
    finally:
        await connection.close()


# The story


async def test_an_employer_pays_approved_tickets_and_sees_each_employees_share(
    client, factory, approved
):
    alice = await factory.employee(username="alice")
    bob = await factory.employee(username="Bob")
    boss = await factory.employer(username="Boss")
    a1, a2 = await approved(alice, boss, 2)
    [b1] = await approved(bob, boss, amount="7.25")

    response = await pay(client, boss, [b1["id"], a2["id"], a1["id"]], "SEPA 2026-11-28 run 14")

    assert response.status_code == 201, response.text
    report = response.json()
    alices = Decimal(a1["amount"]) + Decimal(a2["amount"])
    assert report["reference"] == "SEPA 2026-11-28 run 14"
    assert report["created_by"] == {"id": boss.id, "username": "Boss"}
    assert (report["tickets"], Decimal(report["total"])) == (3, alices + Decimal("7.25"))
    assert report["paid"] == sorted([a1["id"], a2["id"], b1["id"]])
    assert report["skipped"] == []
    # One share per employee, by name whatever its case: what the bank sends each.
    assert report["employees"] == [
        {
            "id": alice.id,
            "username": "alice",
            "email": alice.email,
            "amount": str(alices),
            "tickets": [a1["id"], a2["id"]],
        },
        {
            "id": bob.id,
            "username": "Bob",
            "email": bob.email,
            "amount": "7.25",
            "tickets": [b1["id"]],
        },
    ]
    # The batch reads back as it was reported, without what it skipped.
    fetched = await client.get(f"/api/payments/{report['id']}", headers=boss.headers)
    assert fetched.json() == {key: value for key, value in report.items() if key != "skipped"}


async def test_a_paid_ticket_shows_when_by_whom_and_in_which_payment(client, factory, approved):
    alice, boss = await factory.employee(), await factory.employer(username="Boss")
    [ticket] = await approved(alice, boss)
    before = (await client.get(f"/api/tickets/{ticket['id']}", headers=alice.headers)).json()

    report = (await pay(client, boss, [ticket["id"]], "RUN-7")).json()

    after = (await client.get(f"/api/tickets/{ticket['id']}", headers=alice.headers)).json()
    assert (before["paid_at"], before["paid_by"], before["payment"]) == (None, None, None)
    assert after["status"] == "paid"
    assert after["paid_at"] is not None and after["paid_at"] >= after["decided_at"]
    assert after["paid_by"] == {"id": boss.id, "username": "Boss"}
    assert after["payment"] == {"id": report["id"], "reference": "RUN-7"}
    # The rest of the ticket is as it was approved.
    unchanged = {"paid_at", "paid_by", "payment", "status", "updated_at"}
    assert {k: v for k, v in after.items() if k not in unchanged} == {
        k: v for k, v in before.items() if k not in unchanged
    }
    assert await history_kinds(client, alice, ticket) == [
        "ticket_created",
        "ticket_approved",
        "ticket_paid",
    ]
    history = (
        await client.get(f"/api/tickets/{ticket['id']}/history", headers=boss.headers)
    ).json()
    assert history[-1]["actor"] == {"id": boss.id, "username": "Boss"}


async def test_paid_is_final(client, factory):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice, amount="42.50")
    added = await client.post(
        f"/api/tickets/{ticket['id']}/receipts",
        files={"file": ("taxi.pdf", RECEIPT, "application/pdf")},
        headers=alice.headers,
    )
    assert added.status_code == 201, added.text
    receipt = added.json()
    await client.post(f"/api/tickets/{ticket['id']}/approve", headers=boss.headers)
    assert (await pay(client, boss, [ticket["id"]])).status_code == 201
    url = f"/api/tickets/{ticket['id']}"

    edit = await client.patch(url, json={"amount": "99.00"}, headers=alice.headers)
    approve = await client.post(f"{url}/approve", headers=boss.headers)
    deny = await client.post(f"{url}/deny", json={"note": "changed my mind"}, headers=boss.headers)
    bulk = await client.post(
        "/api/tickets/decisions",
        json={"ticket_ids": [ticket["id"]], "decision": "deny"},
        headers=boss.headers,
    )
    attach = await client.post(
        f"{url}/receipts",
        files={"file": ("again.pdf", RECEIPT, "application/pdf")},
        headers=alice.headers,
    )
    remove = await client.delete(f"{url}/receipts/{receipt['id']}", headers=alice.headers)

    codes = [r.status_code for r in (edit, approve, deny, attach, remove)]
    assert codes == [409] * 5
    assert "already paid" in edit.json()["detail"]
    assert "already paid" in deny.json()["detail"]
    assert bulk.json()["skipped"] == [{"id": ticket["id"], "reason": "already_decided"}]
    final = (await client.get(url, headers=alice.headers)).json()
    assert (final["status"], final["amount"]) == ("paid", "42.50")
    assert [r["id"] for r in final["receipts"]] == [receipt["id"]]
    history = (await client.get(f"{url}/history", headers=alice.headers)).json()
    # Which run paid it: the batch's reference is the history row's note.
    assert (history[-1]["kind"], history[-1]["note"]) == (
        "ticket_paid",
        final["payment"]["reference"],
    )


async def test_tickets_that_cannot_be_paid_are_skipped_with_their_reason(client, factory, approved):
    alice, hidden, boss = (
        await factory.employee(),
        await factory.employee(),
        await factory.employer(),
    )
    payable, earlier = await approved(alice, boss, 2)
    pending = await factory.ticket(alice)
    denied = await factory.ticket(alice)
    await client.post(f"/api/tickets/{denied['id']}/deny", headers=boss.headers)
    [suspended] = await approved(hidden, boss)
    await client.post(f"/api/employees/{hidden.id}/suspend", headers=boss.headers)
    assert (await pay(client, boss, [earlier["id"]])).status_code == 201
    asked = [
        pending["id"],
        payable["id"],
        earlier["id"],
        999_999,
        denied["id"],
        suspended["id"],
        payable["id"],  # named twice, paid once
    ]

    report = (await pay(client, boss, asked)).json()

    assert report["paid"] == [payable["id"]]
    assert report["tickets"] == 1
    assert report["skipped"] == [
        {"id": pending["id"], "reason": "not_approved"},
        {"id": earlier["id"], "reason": "already_paid"},
        {"id": 999_999, "reason": "not_found"},
        {"id": denied["id"], "reason": "not_approved"},
        {"id": suspended["id"], "reason": "not_found"},
    ]
    assert await history_kinds(client, alice, payable) == [
        "ticket_created",
        "ticket_approved",
        "ticket_paid",
    ]


async def test_a_batch_that_can_pay_nothing_is_409_and_records_nothing(
    client, factory, approved, database_url
):
    alice, boss = await factory.employee(), await factory.employer()
    [paid] = await approved(alice, boss)
    await pay(client, boss, [paid["id"]], "FIRST")
    pending = await factory.ticket(alice)
    before = await what_is_recorded(database_url)

    response = await pay(client, boss, [pending["id"], paid["id"], 999_999], "SECOND")

    assert response.status_code == 409
    assert response.json()["detail"] == (
        "None of these tickets can be paid (already paid, not approved, not found or hidden);"
        " nothing was recorded."
    )
    assert await what_is_recorded(database_url) == before
    listed = (await client.get("/api/payments", headers=boss.headers)).json()
    assert [item["reference"] for item in listed["items"]] == ["FIRST"]
    still = (await client.get(f"/api/tickets/{pending['id']}", headers=alice.headers)).json()
    assert (still["status"], still["payment"]) == ("pending", None)


async def test_a_reference_already_used_is_409_and_nothing_is_paid(
    client, factory, approved, database_url
):
    alice, boss = await factory.employee(), await factory.employer()
    first, second = await approved(alice, boss, 2)
    assert (await pay(client, boss, [first["id"]], "BANK-RUN-1")).status_code == 201
    before = await what_is_recorded(database_url)

    # The reference is stored without surrounding spaces, and compared ignoring
    # capitals, so these are the same one.
    again = await pay(client, boss, [second["id"]], "  BANK-RUN-1 ")
    lower = await pay(client, boss, [second["id"]], "bank-run-1")

    assert (again.status_code, lower.status_code) == (409, 409)
    assert "BANK-RUN-1" in again.json()["detail"]
    assert await what_is_recorded(database_url) == before
    ticket = (await client.get(f"/api/tickets/{second['id']}", headers=alice.headers)).json()
    assert (ticket["status"], ticket["payment"]) == ("approved", None)
    assert "ticket_paid" not in await history_kinds(client, alice, second)
    # The ticket is still payable under a reference of its own.
    assert (await pay(client, boss, [second["id"]], "BANK-RUN-2")).status_code == 201


@pytest.mark.parametrize("reference", [None, "", "   "])
async def test_a_blank_reference_is_generated(client, factory, approved, reference):
    alice, boss = await factory.employee(), await factory.employer()
    first, second = await approved(alice, boss, 2)

    one = (await pay(client, boss, [first["id"]], reference)).json()
    other = (await pay(client, boss, [second["id"]], reference)).json()

    pattern = re.compile(r"PAY-(\d{8})-[0-9A-F]{6}")
    for report in (one, other):
        generated = pattern.fullmatch(report["reference"])
        assert generated, report["reference"]
        assert generated.group(1) == date.today().strftime("%Y%m%d")
    assert one["reference"] != other["reference"]


async def test_a_reference_of_the_longest_length_is_kept_whole(client, factory, approved):
    alice, boss = await factory.employee(), await factory.employer()
    [ticket] = await approved(alice, boss)

    response = await pay(client, boss, [ticket["id"]], "R" * 140)

    assert response.status_code == 201
    assert response.json()["reference"] == "R" * 140


async def test_suspension_hides_approved_tickets_from_payment_until_reactivation(
    client, factory, approved
):
    alice, boss = await factory.employee(), await factory.employer()
    [ticket] = await approved(alice, boss)
    await client.post(f"/api/employees/{alice.id}/suspend", headers=boss.headers)

    while_suspended = await pay(client, boss, [ticket["id"]])
    await client.post(f"/api/employees/{alice.id}/reactivate", headers=boss.headers)
    after_reactivation = await pay(client, boss, [ticket["id"]])

    assert while_suspended.status_code == 409
    assert "not found or hidden" in while_suspended.json()["detail"]
    assert after_reactivation.status_code == 201
    assert after_reactivation.json()["paid"] == [ticket["id"]]


async def test_a_batch_still_lists_what_it_paid_an_employee_suspended_since(
    client, factory, approved
):
    alice, boss = await factory.employee(), await factory.employer()
    [ticket] = await approved(alice, boss)
    report = (await pay(client, boss, [ticket["id"]])).json()

    await client.post(f"/api/employees/{alice.id}/suspend", headers=boss.headers)

    fetched = (await client.get(f"/api/payments/{report['id']}", headers=boss.headers)).json()
    assert fetched["paid"] == [ticket["id"]]
    assert [employee["id"] for employee in fetched["employees"]] == [alice.id]
    hidden = await client.get(f"/api/tickets/{ticket['id']}", headers=boss.headers)
    assert hidden.status_code == 404


async def test_payments_are_listed_newest_first_a_page_at_a_time(client, factory, approved):
    alice, boss = await factory.employee(), await factory.employer(username="Boss")
    tickets = await approved(alice, boss, 3)
    made = [(await pay(client, boss, [t["id"]], f"RUN-{n}")).json() for n, t in enumerate(tickets)]

    first_page = (await client.get("/api/payments?limit=2", headers=boss.headers)).json()
    last_page = (await client.get("/api/payments?limit=2&offset=2", headers=boss.headers)).json()

    assert [item["reference"] for item in first_page["items"]] == ["RUN-2", "RUN-1"]
    assert [item["reference"] for item in last_page["items"]] == ["RUN-0"]
    assert (first_page["total"], first_page["limit"], first_page["offset"]) == (3, 2, 0)
    assert last_page["total"] == 3
    assert last_page["items"][0] == {
        "id": made[0]["id"],
        "reference": "RUN-0",
        "created_at": made[0]["created_at"],
        "created_by": {"id": boss.id, "username": "Boss"},
        "tickets": 1,
        "total": tickets[0]["amount"],
        "currency": "USD",
    }


async def test_an_unknown_payment_is_404(client, factory):
    boss = await factory.employer()

    fetched = await client.get("/api/payments/424242", headers=boss.headers)
    exported = await client.get("/api/payments/424242/export", headers=boss.headers)

    assert (fetched.status_code, exported.status_code) == (404, 404)
    assert fetched.json()["detail"] == "Payment 424242 not found."


async def test_employees_can_neither_pay_nor_see_payments(client, factory, approved):
    alice, boss = await factory.employee(), await factory.employer()
    [ticket] = await approved(alice, boss)
    report = (await pay(client, boss, [ticket["id"]])).json()
    [other] = await approved(alice, boss)

    attempts = [
        await pay(client, alice, [other["id"]]),
        await client.get("/api/payments", headers=alice.headers),
        await client.get(f"/api/payments/{report['id']}", headers=alice.headers),
        await client.get(f"/api/payments/{report['id']}/export", headers=alice.headers),
    ]

    assert [response.status_code for response in attempts] == [403] * 4
    still = (await client.get(f"/api/tickets/{other['id']}", headers=alice.headers)).json()
    assert still["status"] == "approved"


async def test_payments_need_a_login(client):
    responses = [
        await client.post("/api/payments", json={"ticket_ids": [1]}),
        await client.get("/api/payments"),
        await client.get("/api/payments/1"),
        await client.get("/api/payments/1/export"),
    ]

    assert [response.status_code for response in responses] == [401] * 4


@pytest.mark.parametrize(
    "body",
    [
        {"ticket_ids": []},
        {"ticket_ids": list(range(1, 10_002))},
        {"ticket_ids": [0]},
        {"ticket_ids": [2**63]},
        {"ticket_ids": "1"},
        {},
        {"ticket_ids": [1], "reference": "R" * 141},
        {"ticket_ids": [1], "reference": "RUN\x001"},
        {"ticket_ids": [1], "reference": "RUN\n14"},
        {"ticket_ids": [1], "reference": "RUN\u009b14"},
        {"ticket_ids": [1], "reference": "\u200b\u200e"},
        {"ticket_ids": [1], "reference": 14},
        {"ticket_ids": [1], "status": "paid"},
    ],
    ids=[
        "no tickets",
        "10,001 tickets",
        "id 0",
        "id past bigint",
        "not a list",
        "nothing",
        "reference of 141",
        "NUL in reference",
        "line break in reference",
        "C1 control in reference",
        "invisible reference",
        "numeric reference",
        "unknown field",
    ],
)
async def test_malformed_batches_are_422_and_pay_nothing(
    client, factory, approved, database_url, body
):
    alice, boss = await factory.employee(), await factory.employer()
    [ticket] = await approved(alice, boss)
    body = {key: [ticket["id"]] if value == [1] else value for key, value in body.items()}

    response = await client.post("/api/payments", json=body, headers=boss.headers)

    assert response.status_code == 422, response.text
    recorded = await what_is_recorded(database_url)
    assert (recorded["payments"], recorded["paid tickets"]) == (0, 0)


async def test_a_batch_may_name_ten_thousand_tickets(client, factory, approved):
    alice, boss = await factory.employee(), await factory.employer()
    [ticket] = await approved(alice, boss)
    asked = [ticket["id"], *range(1_000_001, 1_009_999 + 1)]
    assert len(asked) == 10_000

    response = await pay(client, boss, asked)

    assert response.status_code == 201, response.text
    assert response.json()["paid"] == [ticket["id"]]
    assert len(response.json()["skipped"]) == 9_999


async def test_the_export_is_a_spreadsheet_line_per_employee_that_runs_no_formula(
    client, factory, approved
):
    boss = await factory.employer()
    zoe = await factory.employee(username="Zoë Šťastná")
    tricksters = [
        await factory.employee(username=name) for name in ("=1+2", "+cmd", "-2", "@SUM(A1)")
    ]
    zoes = await approved(zoe, boss, 2)
    theirs = [(await approved(employee, boss))[0] for employee in tricksters]
    everything = [ticket["id"] for ticket in zoes + theirs]
    report = (await pay(client, boss, everything, '=HYPERLINK("https://evil.example")')).json()

    response = await client.get(f"/api/payments/{report['id']}/export", headers=boss.headers)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith(
        f'attachment; filename="payment-{report["id"]}-'
    )
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    reference = '\'=HYPERLINK("https://evil.example")'
    # By name: "+cmd", "-2", "=1+2", "@SUM(A1)", then Zoë.
    by_name = [tricksters[1], tricksters[2], tricksters[0], tricksters[3]]
    assert rows == [
        ["Employee", "Email", "Amount", "Currency", "Tickets", "Reference"],
        *(
            [
                "'" + employee.username,
                employee.email,
                theirs[tricksters.index(employee)]["amount"],
                "USD",
                str(theirs[tricksters.index(employee)]["id"]),
                reference,
            ]
            for employee in by_name
        ),
        [
            "Zoë Šťastná",
            zoe.email,
            str(sum(Decimal(ticket["amount"]) for ticket in zoes)),
            "USD",
            f"{zoes[0]['id']} {zoes[1]['id']}",
            reference,
        ],
    ]


async def test_the_export_of_a_plain_batch_keeps_its_text_as_it_is(client, factory, approved):
    alice, boss = await factory.employee(username="Alice"), await factory.employer()
    [ticket] = await approved(alice, boss, amount="1249.99")
    report = (await pay(client, boss, [ticket["id"]], "SEPA run 14")).json()

    response = await client.get(f"/api/payments/{report['id']}/export", headers=boss.headers)

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1:] == [["Alice", alice.email, "1249.99", "USD", str(ticket["id"]), "SEPA run 14"]]


async def test_me_shows_what_is_owed_and_what_was_paid_this_year(
    client, factory, approved, database_url
):
    alice, bob, boss = await factory.employee(), await factory.employee(), await factory.employer()
    await factory.ticket(alice, amount="1.00")  # pending: not owed yet
    denied = await factory.ticket(alice, amount="2.00")
    await client.post(f"/api/tickets/{denied['id']}/deny", headers=boss.headers)
    first, second = await approved(alice, boss, 2)
    [last_year, new_year] = await approved(alice, boss, 2)
    await approved(bob, boss, amount="500.00")  # someone else's
    owed = Decimal(first["amount"]) + Decimal(second["amount"])
    owed += Decimal(last_year["amount"]) + Decimal(new_year["amount"])
    before = (await client.get("/api/users/me", headers=alice.headers)).json()

    await pay(client, boss, [first["id"], last_year["id"], new_year["id"]])
    # Paid either side of this year's start (UTC, the default TIMEZONE).
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        year_start = "date_trunc('year', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
        for ticket, moment in (
            (last_year, f"{year_start} - interval '1 microsecond'"),
            (new_year, year_start),
        ):
            await connection.execute(
                f"UPDATE tickets SET paid_at = {moment} WHERE id = $1", ticket["id"]
            )
    finally:
        await connection.close()
    after = (await client.get("/api/users/me", headers=alice.headers)).json()
    employer = (await client.get("/api/users/me", headers=boss.headers)).json()

    assert before["owed"] == {"tickets": 4, "amount": str(owed), "currency": "USD"}
    assert before["paid_this_year"] == {"tickets": 0, "amount": "0.00", "currency": "USD"}
    assert after["owed"] == {"tickets": 1, "amount": second["amount"], "currency": "USD"}
    paid = Decimal(first["amount"]) + Decimal(new_year["amount"])
    assert after["paid_this_year"] == {"tickets": 2, "amount": str(paid), "currency": "USD"}
    assert (employer["owed"], employer["paid_this_year"]) == (
        {"tickets": 0, "amount": "0.00", "currency": "USD"},
        {"tickets": 0, "amount": "0.00", "currency": "USD"},
    )
