"""The policy flags: each appears and disappears as the ticket, its receipts, its
category and its owner's other tickets change; lists filter on them, and a bulk
approval leaves flagged tickets alone unless told otherwise."""

from datetime import date, timedelta

import asyncpg

from tests.support.databases import plain_url
from tests.support.totals import stored_and_recounted

TODAY = date.today()
YESTERDAY = TODAY - timedelta(days=1)
RECEIPT_PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def pdf(text: str = "") -> bytes:
    """A small PDF; different `text`, different bytes (and SHA-256)."""
    return RECEIPT_PDF.replace(b"%%EOF", f"% {text}\n%%EOF".encode())


async def create_category(client, boss, **fields):
    response = await client.post(
        "/api/categories", json={"name": "Travel"} | fields, headers=boss.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def upload(client, owner, ticket, content=RECEIPT_PDF, filename="receipt.pdf"):
    response = await client.post(
        f"/api/tickets/{ticket['id']}/receipts",
        files={"file": (filename, content, "application/pdf")},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def fetch(client, account, ticket):
    response = await client.get(f"/api/tickets/{ticket['id']}", headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def flags_of(client, account, ticket):
    seen = await fetch(client, account, ticket)
    return seen["flags"], seen["duplicate_of"]


async def edit(client, owner, ticket, **changes):
    response = await client.patch(
        f"/api/tickets/{ticket['id']}", json=changes, headers=owner.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def assert_totals_match_a_recount(database_url):
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        stored, recounted = await stored_and_recounted(connection)
    finally:
        await connection.close()
    assert stored == recounted


# over_limit


async def test_over_limit_follows_the_amount_and_the_category(client, factory, database_url):
    boss, alice = await factory.employer(), await factory.employee()
    travel = await create_category(client, boss, max_amount="100.00")
    meals = await create_category(client, boss, name="Meals", max_amount="500.00")

    ticket = await factory.ticket(alice, amount="150.00", category_id=travel["id"])
    assert ticket["flags"] == ["over_limit"]

    # Exactly the limit is within it.
    assert (await edit(client, alice, ticket, amount="100.00"))["flags"] == []
    assert (await edit(client, alice, ticket, amount="100.01"))["flags"] == ["over_limit"]
    assert (await edit(client, alice, ticket, category_id=meals["id"]))["flags"] == []
    await assert_totals_match_a_recount(database_url)

    await client.patch(
        f"/api/categories/{meals['id']}", json={"max_amount": "50.00"}, headers=boss.headers
    )
    assert await flags_of(client, alice, ticket) == (["over_limit"], [])


# receipt_missing


async def test_receipt_missing_goes_when_a_receipt_is_added_and_returns_when_removed(
    client, factory, database_url
):
    boss, alice = await factory.employer(), await factory.employee()
    travel = await create_category(client, boss, receipt_required_above="25.00")
    small = await factory.ticket(alice, amount="25.00", category_id=travel["id"])
    ticket = await factory.ticket(alice, amount="30.00", category_id=travel["id"])
    assert small["flags"] == []
    assert ticket["flags"] == ["receipt_missing"]
    updated_at = ticket["updated_at"]

    receipt = await upload(client, alice, ticket)

    seen = await fetch(client, boss, ticket)
    assert seen["flags"] == []
    assert seen["updated_at"] > updated_at  # a receipt added is a change of the ticket
    await assert_totals_match_a_recount(database_url)

    removed = await client.delete(
        f"/api/tickets/{ticket['id']}/receipts/{receipt['id']}", headers=alice.headers
    )
    assert removed.status_code == 204
    assert await flags_of(client, boss, ticket) == (["receipt_missing"], [])
    # A small ticket never needs one; a threshold of zero asks one of every ticket.
    await client.patch(
        f"/api/categories/{travel['id']}",
        json={"receipt_required_above": "0"},
        headers=boss.headers,
    )
    assert await flags_of(client, boss, small) == (["receipt_missing"], [])


async def test_a_ticket_can_be_over_its_limit_and_missing_its_receipt(client, factory):
    boss, alice = await factory.employer(), await factory.employee()
    travel = await create_category(
        client, boss, max_amount="100.00", receipt_required_above="20.00"
    )

    ticket = await factory.ticket(alice, amount="200.00", category_id=travel["id"])
    await upload(client, alice, ticket)

    assert ticket["flags"] == ["over_limit", "receipt_missing"]
    assert await flags_of(client, alice, ticket) == (["over_limit"], [])


async def test_limits_hold_the_company_amount_not_the_amount_as_spent(
    client, factory, database_url
):
    boss, alice = await factory.employer(), await factory.employee()
    since = TODAY - timedelta(days=30)
    await factory.rate(boss, "EUR", "1.25", since)
    await factory.rate(boss, "JPY", "0.0064", since)
    travel = await create_category(
        client, boss, max_amount="100.00", receipt_required_above="50.00"
    )

    # 90 euros are $112.50; 15,000 yen are $96.00; 80 euros are exactly the limit.
    euros = await factory.ticket(alice, "EUR", amount="90.00", category_id=travel["id"])
    yen = await factory.ticket(alice, "JPY", amount="15000", category_id=travel["id"])
    at_limit = await factory.ticket(alice, "EUR", amount="80.00", category_id=travel["id"])
    small_yen = await factory.ticket(alice, "JPY", amount="7000", category_id=travel["id"])

    assert euros["flags"] == ["over_limit", "receipt_missing"]
    assert yen["flags"] == ["receipt_missing"]
    assert at_limit["flags"] == ["receipt_missing"]
    assert small_yen["flags"] == []  # $44.80
    # A new limit re-flags the pending tickets by their company amounts too.
    await client.patch(
        f"/api/categories/{travel['id']}",
        json={"max_amount": "96.00", "receipt_required_above": "44.80"},
        headers=boss.headers,
    )
    assert await flags_of(client, alice, yen) == (["receipt_missing"], [])
    assert await flags_of(client, alice, at_limit) == (["over_limit", "receipt_missing"], [])
    assert await flags_of(client, alice, small_yen) == ([], [])
    await assert_totals_match_a_recount(database_url)


# possible_duplicate: the same purchase


async def test_the_same_date_and_amount_flags_both_tickets(client, factory, database_url):
    alice = await factory.employee()
    first = await factory.ticket(alice, spent_on=TODAY.isoformat(), amount="42.00")

    second = await factory.ticket(alice, spent_on=TODAY.isoformat(), amount="42.00")

    assert second["flags"] == ["possible_duplicate"]
    assert second["duplicate_of"] == [first["id"]]
    seen_first = await fetch(client, alice, first)
    assert (seen_first["flags"], seen_first["duplicate_of"]) == (
        ["possible_duplicate"],
        [second["id"]],
    )
    # Flagging is not an edit of the first ticket.
    assert seen_first["updated_at"] == first["updated_at"]
    await assert_totals_match_a_recount(database_url)


async def test_a_third_identical_ticket_names_both_and_both_name_it(client, factory):
    alice = await factory.employee()
    same = {"spent_on": TODAY.isoformat(), "amount": "9.99"}
    first = await factory.ticket(alice, **same)
    second = await factory.ticket(alice, **same)

    third = await factory.ticket(alice, **same)

    assert third["duplicate_of"] == [first["id"], second["id"]]
    assert (await flags_of(client, alice, first))[1] == [second["id"], third["id"]]
    assert (await flags_of(client, alice, second))[1] == [first["id"], third["id"]]


async def test_a_duplicate_clears_on_both_sides_when_either_is_edited_apart(
    client, factory, database_url
):
    alice = await factory.employee()
    first = await factory.ticket(alice, spent_on=TODAY.isoformat(), amount="42.00")
    second = await factory.ticket(alice, spent_on=TODAY.isoformat(), amount="42.00")

    edited = await edit(client, alice, second, amount="43.00")

    assert (edited["flags"], edited["duplicate_of"]) == ([], [])
    assert await flags_of(client, alice, first) == ([], [])
    await assert_totals_match_a_recount(database_url)

    # Back to the same purchase: flagged again, both sides; then a different day.
    await edit(client, alice, second, amount="42.00")
    assert await flags_of(client, alice, first) == (["possible_duplicate"], [second["id"]])
    await edit(client, alice, first, spent_on=YESTERDAY.isoformat())
    assert await flags_of(client, alice, first) == ([], [])
    assert await flags_of(client, alice, second) == ([], [])
    await assert_totals_match_a_recount(database_url)


async def test_other_employees_identical_tickets_are_not_duplicates(client, factory):
    alice, bob = await factory.employee(), await factory.employee()
    mine = await factory.ticket(alice, spent_on=TODAY.isoformat(), amount="42.00")

    theirs = await factory.ticket(bob, spent_on=TODAY.isoformat(), amount="42.00")

    assert theirs["flags"] == []
    assert await flags_of(client, alice, mine) == ([], [])


async def test_denying_one_of_a_pair_clears_the_other(client, factory, database_url):
    alice, boss = await factory.employee(), await factory.employer()
    first = await factory.ticket(alice, spent_on=TODAY.isoformat(), amount="42.00")
    second = await factory.ticket(alice, spent_on=TODAY.isoformat(), amount="42.00")

    denied = await client.post(f"/api/tickets/{second['id']}/deny", headers=boss.headers)

    assert denied.status_code == 200
    assert await flags_of(client, alice, first) == ([], [])
    # The denied ticket keeps the flag it was decided with.
    assert await flags_of(client, alice, second) == (["possible_duplicate"], [first["id"]])
    # A new identical ticket matches the pending one only: the denied one is out.
    third = await factory.ticket(alice, spent_on=TODAY.isoformat(), amount="42.00")
    assert third["duplicate_of"] == [first["id"]]
    assert await flags_of(client, alice, first) == (["possible_duplicate"], [third["id"]])
    await assert_totals_match_a_recount(database_url)


async def test_a_bulk_denial_clears_the_duplicates_left_pending(client, factory, database_url):
    alice, boss = await factory.employee(), await factory.employer()
    same = {"spent_on": TODAY.isoformat(), "amount": "42.00"}
    first, second, third = [await factory.ticket(alice, **same) for _ in range(3)]

    report = await client.post(
        "/api/tickets/decisions",
        json={"ticket_ids": [second["id"], third["id"]], "decision": "deny"},
        headers=boss.headers,
    )

    # A denial does not skip flagged tickets.
    assert report.json() == {"decided": [second["id"], third["id"]], "skipped": []}
    assert await flags_of(client, alice, first) == ([], [])
    await assert_totals_match_a_recount(database_url)


async def test_an_approved_duplicate_still_counts(client, factory):
    alice, boss = await factory.employee(), await factory.employer()
    first = await factory.ticket(alice, spent_on=TODAY.isoformat(), amount="42.00")
    await client.post(f"/api/tickets/{first['id']}/approve", headers=boss.headers)

    second = await factory.ticket(alice, spent_on=TODAY.isoformat(), amount="42.00")

    assert second["duplicate_of"] == [first["id"]]


# possible_duplicate: the same receipt


async def test_the_same_receipt_on_two_tickets_flags_both(client, factory, database_url):
    alice = await factory.employee()
    lunch = await factory.ticket(alice, amount="12.00", spent_on=TODAY.isoformat())
    dinner = await factory.ticket(alice, amount="48.00", spent_on=YESTERDAY.isoformat())
    await upload(client, alice, lunch, pdf("bistro"))
    other = await upload(client, alice, dinner, pdf("brasserie"))
    assert await flags_of(client, alice, dinner) == ([], [])

    same = await upload(client, alice, dinner, pdf("bistro"))

    assert await flags_of(client, alice, lunch) == (["possible_duplicate"], [dinner["id"]])
    assert await flags_of(client, alice, dinner) == (["possible_duplicate"], [lunch["id"]])
    assert other["sha256"] != same["sha256"]
    await assert_totals_match_a_recount(database_url)

    await client.delete(f"/api/tickets/{dinner['id']}/receipts/{same['id']}", headers=alice.headers)
    assert await flags_of(client, alice, lunch) == ([], [])
    assert await flags_of(client, alice, dinner) == ([], [])


async def test_the_same_receipt_from_two_employees_is_not_a_duplicate(client, factory):
    alice, bob = await factory.employee(), await factory.employee()
    mine = await factory.ticket(alice)
    theirs = await factory.ticket(bob)
    await upload(client, alice, mine, pdf("shared taxi"))

    await upload(client, bob, theirs, pdf("shared taxi"))

    assert await flags_of(client, alice, mine) == ([], [])
    assert await flags_of(client, bob, theirs) == ([], [])


async def test_a_receipt_shared_with_a_denied_ticket_does_not_flag(client, factory):
    alice, boss = await factory.employee(), await factory.employer()
    denied = await factory.ticket(alice)
    await upload(client, alice, denied, pdf("hotel"))
    await client.post(f"/api/tickets/{denied['id']}/deny", headers=boss.headers)
    ticket = await factory.ticket(alice)

    await upload(client, alice, ticket, pdf("hotel"))

    assert await flags_of(client, alice, ticket) == ([], [])


# Lists


async def test_lists_filter_by_flag_flagged_and_category(client, factory):
    boss, alice, bob = await factory.employer(), await factory.employee(), await factory.employee()
    travel = await create_category(client, boss, max_amount="100.00", receipt_required_above="50")
    over = await factory.ticket(alice, amount="150.00", category_id=travel["id"])
    missing = await factory.ticket(alice, amount="60.00", category_id=travel["id"])
    clean = await factory.ticket(alice, amount="10.00", category_id=travel["id"])
    general = await factory.ticket(alice, amount="10.00", spent_on=YESTERDAY.isoformat())
    twin = await factory.ticket(alice, amount="10.00", spent_on=YESTERDAY.isoformat())
    bobs = await factory.ticket(bob, amount="500.00", category_id=travel["id"])

    async def ids(account, query):
        response = await client.get(f"/api/tickets?{query}", headers=account.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["total"] == len(page["items"])
        return [ticket["id"] for ticket in page["items"]]

    for account, also in ((alice, []), (boss, [bobs["id"]])):
        assert await ids(account, "flag=over_limit") == [*also, over["id"]]
        assert await ids(account, "flag=receipt_missing") == [*also, missing["id"], over["id"]]
        assert await ids(account, "flag=possible_duplicate") == [twin["id"], general["id"]]
        assert await ids(account, "flagged=true") == [
            *also,
            twin["id"],
            general["id"],
            missing["id"],
            over["id"],
        ]
        assert await ids(account, "flagged=false") == [clean["id"]]
        assert await ids(account, f"category_id={travel['id']}") == [
            *also,
            clean["id"],
            missing["id"],
            over["id"],
        ]
        assert await ids(account, f"category_id={travel['id']}&flagged=false") == [clean["id"]]
        assert await ids(account, "flag=over_limit&status=approved") == []
    refused = await client.get("/api/tickets?flag=expensive", headers=boss.headers)
    assert refused.status_code == 422


# Approval


async def test_a_bulk_approval_skips_flagged_tickets_unless_told(client, factory, database_url):
    boss, alice = await factory.employer(), await factory.employee()
    travel = await create_category(client, boss, max_amount="100.00")
    over = await factory.ticket(alice, amount="150.00", category_id=travel["id"])
    fine = await factory.ticket(alice, amount="50.00", category_id=travel["id"])
    twin = await factory.ticket(alice, amount="50.00", spent_on=YESTERDAY.isoformat())
    other_twin = await factory.ticket(alice, amount="50.00", spent_on=YESTERDAY.isoformat())
    everything = [over["id"], fine["id"], twin["id"], other_twin["id"]]

    first = await client.post(
        "/api/tickets/decisions",
        json={"ticket_ids": everything, "decision": "approve"},
        headers=boss.headers,
    )

    assert first.json() == {
        "decided": [fine["id"]],
        "skipped": [
            {"id": over["id"], "reason": "flagged"},
            {"id": twin["id"], "reason": "flagged"},
            {"id": other_twin["id"], "reason": "flagged"},
        ],
    }
    assert (await fetch(client, boss, over))["status"] == "pending"
    await assert_totals_match_a_recount(database_url)

    second = await client.post(
        "/api/tickets/decisions",
        json={"ticket_ids": everything, "decision": "approve", "include_flagged": True},
        headers=boss.headers,
    )

    assert second.json() == {
        "decided": [over["id"], twin["id"], other_twin["id"]],
        "skipped": [{"id": fine["id"], "reason": "already_decided"}],
    }
    approved = await fetch(client, boss, over)
    assert (approved["status"], approved["flags"]) == ("approved", ["over_limit"])
    await assert_totals_match_a_recount(database_url)


async def test_a_flagged_ticket_approved_on_its_own_is_approved(client, factory, database_url):
    boss, alice = await factory.employer(), await factory.employee()
    travel = await create_category(client, boss, max_amount="100.00")
    ticket = await factory.ticket(alice, amount="150.00", category_id=travel["id"])

    response = await client.post(f"/api/tickets/{ticket['id']}/approve", headers=boss.headers)

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["flags"]) == ("approved", ["over_limit"])
    await assert_totals_match_a_recount(database_url)
