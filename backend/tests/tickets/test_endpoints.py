from datetime import date, timedelta

import pytest

TODAY = date.today()


async def test_an_employee_files_a_ticket_and_gets_it_back_in_full(client, factory):
    alice = await factory.employee(username="Alice")

    response = await client.post(
        "/api/tickets",
        json={
            "spent_on": TODAY.isoformat(),
            "amount": "1234.5",
            "description": "Flight to Shanghai",
            "links": ["https://airline.example.com/booking/XY12"],
        },
        headers=alice.headers,
    )

    assert response.status_code == 201
    ticket = response.json()
    assert ticket["amount"] == "1234.50"
    assert ticket["owner"] == {"id": alice.id, "username": "Alice", "email": alice.email}
    assert ticket["status"] == "pending"
    assert ticket["decided_by"] is None
    assert ticket["links"] == ["https://airline.example.com/booking/XY12"]
    fetched = await client.get(f"/api/tickets/{ticket['id']}", headers=alice.headers)
    assert fetched.json() == ticket


async def test_employers_file_their_own_tickets(client, factory):
    boss, alice = await factory.employer(), await factory.employee()
    theirs = await factory.ticket(alice)

    response = await client.post(
        "/api/tickets",
        json={"spent_on": TODAY.isoformat(), "amount": "5", "description": "Parking"},
        headers=boss.headers,
    )
    mine = await client.get("/api/tickets?mine=true", headers=boss.headers)
    everyone = await client.get("/api/tickets", headers=boss.headers)

    assert response.status_code == 201, response.text
    assert response.json()["owner"]["id"] == boss.id
    assert [t["id"] for t in mine.json()["items"]] == [response.json()["id"]]
    assert {t["id"] for t in everyone.json()["items"]} == {response.json()["id"], theirs["id"]}


async def test_employees_see_only_their_own_tickets_and_employers_see_all(client, factory):
    alice, bob, boss = await factory.employee(), await factory.employee(), await factory.employer()
    mine = await factory.ticket(alice, description="Alice's")
    theirs = await factory.ticket(bob, description="Bob's")

    alice_list = (await client.get("/api/tickets", headers=alice.headers)).json()
    boss_list = (await client.get("/api/tickets", headers=boss.headers)).json()
    peek = await client.get(f"/api/tickets/{theirs['id']}", headers=alice.headers)

    assert [t["id"] for t in alice_list["items"]] == [mine["id"]]
    assert alice_list["total"] == 1
    assert [t["id"] for t in boss_list["items"]] == [theirs["id"], mine["id"]]
    assert peek.status_code == 404
    assert peek.json()["detail"] == f"Ticket {theirs['id']} not found."


async def test_the_list_pages_newest_first_and_filters_by_status(client, factory):
    alice, boss = await factory.employee(), await factory.employer()
    ids = [(await factory.ticket(alice, amount=str(n + 1)))["id"] for n in range(5)]
    await client.post(f"/api/tickets/{ids[1]}/approve", headers=boss.headers)

    page = (await client.get("/api/tickets?limit=2&offset=1", headers=alice.headers)).json()
    pending = (await client.get("/api/tickets?status=pending", headers=alice.headers)).json()
    approved = (await client.get("/api/tickets?status=approved", headers=boss.headers)).json()

    assert [t["id"] for t in page["items"]] == [ids[3], ids[2]]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)
    assert pending["total"] == 4
    assert [t["id"] for t in approved["items"]] == [ids[1]]
    # The employer's pages (read through the covering index) agree.
    boss_page = (await client.get("/api/tickets?limit=2&offset=1", headers=boss.headers)).json()
    assert [t["id"] for t in boss_page["items"]] == [ids[3], ids[2]]
    assert (boss_page["total"], boss_page["total_is_estimate"]) == (5, False)
    boss_pending = await client.get("/api/tickets?status=pending&offset=3", headers=boss.headers)
    assert [t["id"] for t in boss_pending.json()["items"]] == [ids[0]]


@pytest.mark.parametrize("query", ["limit=201", "limit=0", "offset=-1", "status=lost"])
async def test_list_parameters_out_of_range_are_422(client, factory, query):
    alice = await factory.employee()
    response = await client.get(f"/api/tickets?{query}", headers=alice.headers)
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amount": "0"}, "greater than 0"),
        ({"amount": "-5"}, "a positive amount, e.g."),
        ({"amount": -5}, "greater than 0"),
        ({"amount": "12.345"}, "2 decimal places"),
        ({"amount": 12.345}, "2 decimal places"),
        ({"amount": "abc"}, "a positive amount, e.g."),
        ({"amount": "NaN"}, "a positive amount, e.g."),
        ({"amount": "1e3"}, "a positive amount, e.g."),
        ({"amount": True}, "a positive amount, e.g."),
        ({"amount": "1000000.01"}, "$1,000,000.01 above the $1,000,000.00 one ticket may claim"),
        ({"amount": "15.5", "currency": "JPY"}, "JPY has no minor units"),
        ({"amount": "1.2345", "currency": "KWD"}, "at most 3 decimal places"),
        ({"currency": "XYZ"}, "'XYZ' is not a currency in use"),
        ({"currency": "DEM"}, "'DEM' is not a currency in use"),
        ({"currency": "EUR"}, "There is no exchange rate from EUR to USD valid on"),
        ({"spent_on": (TODAY + timedelta(days=2)).isoformat()}, "cannot be in the future"),
        ({"spent_on": "1999-12-31"}, "on or after 2000-01-01"),
        ({"spent_on": "2026-02-30"}, "valid date"),
        ({"links": ["javascript:alert(1)"]}, "http:// or https://"),
        ({"links": ["ftp://files.example.com/x"]}, "http:// or https://"),
        ({"links": ["https://"]}, "http:// or https://"),
        ({"links": ["https://ok.example.com/" + "a" * 2048]}, "at most 2048 characters"),
        ({"links": [f"https://x.example.com/{n}" for n in range(11)]}, "at most 10 items"),
        ({"description": ""}, "at least 1 character"),
        ({"description": "x" * 2001}, "at most 2000 characters"),
        ({"description": "bell\x07"}, "control characters"),
        ({"status": "approved"}, "Extra inputs are not permitted"),
        ({"owner_id": 1}, "Extra inputs are not permitted"),
    ],
)
async def test_bad_tickets_get_a_clear_422_and_nothing_is_stored(client, factory, change, message):
    alice = await factory.employee()
    body = {"spent_on": TODAY.isoformat(), "amount": "10", "description": "Lunch"} | change

    response = await client.post("/api/tickets", json=body, headers=alice.headers)

    assert response.status_code == 422
    assert message in str(response.json()["detail"])
    listing = await client.get("/api/tickets", headers=alice.headers)
    assert listing.json()["total"] == 0


@pytest.mark.parametrize(("sent", "stored"), [(12.5, "12.50"), (7, "7.00"), ("0.01", "0.01")])
async def test_amounts_are_accepted_as_numbers_or_strings(client, factory, sent, stored):
    alice = await factory.employee()
    ticket = await factory.ticket(alice, amount=sent)
    assert ticket["amount"] == stored


async def test_unicode_and_html_are_stored_as_text(client, factory):
    alice = await factory.employee()
    description = "<script>alert('报销')</script> 出租车 🚕"

    ticket = await factory.ticket(alice, description=description)

    assert ticket["description"] == description


async def test_an_employee_edits_a_pending_ticket_and_the_history_shows_it(client, factory):
    alice = await factory.employee()
    ticket = await factory.ticket(alice, amount="10.00", description="Lunch")

    response = await client.patch(
        f"/api/tickets/{ticket['id']}", json={"amount": "12.00"}, headers=alice.headers
    )
    history = await client.get(f"/api/tickets/{ticket['id']}/history", headers=alice.headers)

    assert response.status_code == 200
    assert response.json()["amount"] == "12.00"
    assert response.json()["description"] == "Lunch"
    assert [e["kind"] for e in history.json()] == ["ticket_created", "ticket_edited"]
    assert history.json()[1]["changes"] == {"amount": ["10.00", "12.00"]}


async def test_edits_are_validated_like_new_tickets(client, factory):
    alice = await factory.employee()
    ticket = await factory.ticket(alice)

    nulled = await client.patch(
        f"/api/tickets/{ticket['id']}", json={"amount": None}, headers=alice.headers
    )
    smuggled = await client.patch(
        f"/api/tickets/{ticket['id']}", json={"status": "approved"}, headers=alice.headers
    )

    assert nulled.status_code == 422
    assert "amount cannot be null" in str(nulled.json()["detail"])
    assert smuggled.status_code == 422
    unchanged = await client.get(f"/api/tickets/{ticket['id']}", headers=alice.headers)
    assert unchanged.json() == ticket


async def test_a_decided_ticket_is_final_for_its_owner(client, factory):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    await client.post(f"/api/tickets/{ticket['id']}/approve", headers=boss.headers)

    response = await client.patch(
        f"/api/tickets/{ticket['id']}", json={"amount": "99.00"}, headers=alice.headers
    )

    assert response.status_code == 409
    assert "already approved" in response.json()["detail"]


async def test_nobody_edits_someone_elses_ticket(client, factory):
    alice, bob, boss = await factory.employee(), await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)

    by_bob = await client.patch(
        f"/api/tickets/{ticket['id']}", json={"amount": "1"}, headers=bob.headers
    )
    by_boss = await client.patch(
        f"/api/tickets/{ticket['id']}", json={"amount": "1"}, headers=boss.headers
    )

    assert by_bob.status_code == by_boss.status_code == 404


async def test_an_employer_approves_and_the_employee_sees_it(client, factory):
    alice, boss = await factory.employee(), await factory.employer(username="Boss")
    ticket = await factory.ticket(alice)

    before = await client.get(f"/api/tickets/{ticket['id']}", headers=boss.headers)
    approved = await client.post(f"/api/tickets/{ticket['id']}/approve", headers=boss.headers)
    seen = await client.get(f"/api/tickets/{ticket['id']}", headers=alice.headers)

    assert before.json()["status"] == "pending"
    assert approved.status_code == 200
    assert seen.json()["status"] == "approved"
    assert seen.json()["decided_by"] == {"id": boss.id, "username": "Boss"}
    assert seen.json()["decided_at"] is not None


async def test_a_denial_carries_a_note_the_employee_sees(client, factory):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)

    await client.post(
        f"/api/tickets/{ticket['id']}/deny",
        json={"note": "Please attach the receipt"},
        headers=boss.headers,
    )
    seen = (await client.get(f"/api/tickets/{ticket['id']}", headers=alice.headers)).json()
    history = (
        await client.get(f"/api/tickets/{ticket['id']}/history", headers=alice.headers)
    ).json()

    assert seen["status"] == "denied"
    assert seen["decision_note"] == "Please attach the receipt"
    assert history[-1]["kind"] == "ticket_denied"
    assert history[-1]["note"] == "Please attach the receipt"


async def test_deciding_twice_is_409_and_the_first_decision_stands(client, factory):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    await client.post(f"/api/tickets/{ticket['id']}/approve", headers=boss.headers)

    response = await client.post(f"/api/tickets/{ticket['id']}/deny", headers=boss.headers)

    assert response.status_code == 409
    assert (
        response.json()["detail"]
        == f"Ticket {ticket['id']} was already approved; decisions are final."
    )
    seen = await client.get(f"/api/tickets/{ticket['id']}", headers=alice.headers)
    assert seen.json()["status"] == "approved"


async def test_employees_never_reach_employer_operations(client, factory):
    alice = await factory.employee()
    ticket = await factory.ticket(alice)

    approve = await client.post(f"/api/tickets/{ticket['id']}/approve", headers=alice.headers)
    bulk = await client.post(
        "/api/tickets/decisions",
        json={"ticket_ids": [ticket["id"]], "decision": "approve"},
        headers=alice.headers,
    )
    employees = await client.get("/api/employees", headers=alice.headers)

    assert approve.status_code == bulk.status_code == employees.status_code == 403
    assert (await client.get(f"/api/tickets/{ticket['id']}", headers=alice.headers)).json()[
        "status"
    ] == "pending"


async def test_unknown_ticket_ids_are_404_for_every_operation(client, factory):
    boss = await factory.employer()
    for method, path in [
        ("GET", "/api/tickets/999"),
        ("GET", "/api/tickets/999/history"),
        ("POST", "/api/tickets/999/approve"),
        ("POST", "/api/tickets/999/deny"),
    ]:
        response = await client.request(method, path, headers=boss.headers)
        assert response.status_code == 404, path
    huge = await client.get(f"/api/tickets/{2**70}", headers=boss.headers)
    assert huge.status_code == 422


async def test_a_bulk_decision_reports_what_it_decided_and_skipped(client, factory):
    alice, boss = await factory.employee(), await factory.employer()
    first, second, third = [await factory.ticket(alice) for _ in range(3)]
    await client.post(f"/api/tickets/{second['id']}/deny", headers=boss.headers)

    response = await client.post(
        "/api/tickets/decisions",
        json={"ticket_ids": [first["id"], second["id"], third["id"], 4242], "decision": "approve"},
        headers=boss.headers,
    )

    assert response.status_code == 200
    assert response.json() == {
        "decided": [first["id"], third["id"]],
        "skipped": [
            {"id": second["id"], "reason": "already_decided"},
            {"id": 4242, "reason": "not_found"},
        ],
    }
    approved = await client.get("/api/tickets?status=approved", headers=alice.headers)
    assert approved.json()["total"] == 2


async def test_a_bulk_decision_needs_ids_and_a_known_decision(client, factory):
    boss = await factory.employer()
    empty = await client.post(
        "/api/tickets/decisions",
        json={"ticket_ids": [], "decision": "approve"},
        headers=boss.headers,
    )
    unknown = await client.post(
        "/api/tickets/decisions",
        json={"ticket_ids": [1], "decision": "maybe"},
        headers=boss.headers,
    )
    assert empty.status_code == unknown.status_code == 422


async def test_a_listed_ticket_is_the_ticket_itself_in_every_state(client, factory):
    alice, boss = await factory.employee(), await factory.employer()
    pending = await factory.ticket(alice, description="Pending taxi")
    edited = await factory.ticket(alice, description="Edited lunch")
    approved = await factory.ticket(alice, description="Approved hotel")
    denied = await factory.ticket(alice, description="Denied gadget")
    await client.patch(
        f"/api/tickets/{edited['id']}", json={"amount": "99.90"}, headers=alice.headers
    )
    await client.post(f"/api/tickets/{approved['id']}/approve", headers=boss.headers)
    await client.post(
        f"/api/tickets/{denied['id']}/deny", json={"note": "Not ours"}, headers=boss.headers
    )

    for viewer in (alice, boss):
        listed = (await client.get("/api/tickets", headers=viewer.headers)).json()["items"]
        assert len(listed) == 4
        for item in listed:
            alone = await client.get(f"/api/tickets/{item['id']}", headers=viewer.headers)
            assert item == alone.json()
    by_id = {item["id"]: item for item in listed}
    assert by_id[pending["id"]]["status"] == "pending"
    assert by_id[edited["id"]]["amount"] == "99.90"
    assert by_id[approved["id"]]["decided_by"] == {"id": boss.id, "username": boss.username}
    assert by_id[denied["id"]]["decision_note"] == "Not ours"
    # Filing answers with the same shape as reading it back.
    assert pending == by_id[pending["id"]]


async def test_a_suspended_employees_token_lists_nothing_even_with_tickets(client, factory):
    alice, boss = await factory.employee(), await factory.employer()
    await factory.ticket(alice)
    await client.post(f"/api/employees/{alice.id}/suspend", headers=boss.headers)

    response = await client.get("/api/tickets", headers=alice.headers)

    assert response.status_code == 401
    assert response.json()["detail"] == "This account is suspended; contact your employer."


async def test_a_suspended_employees_old_token_says_suspended_on_every_call(client, factory):
    alice, boss = await factory.employee(), await factory.employer()
    await client.post(f"/api/employees/{alice.id}/suspend", headers=boss.headers)
    ticket = {"spent_on": "2026-01-15", "amount": "1.00", "description": "Taxi"}

    answers = [
        await client.get("/api/users/me", headers=alice.headers),
        await client.post("/api/tickets", json=ticket, headers=alice.headers),
        await client.get("/api/tickets/1", headers=alice.headers),
    ]

    # Not "your session has expired": logging in again would not help.
    assert [r.status_code for r in answers] == [401] * 3
    assert {r.json()["detail"] for r in answers} == {
        "This account is suspended; contact your employer."
    }
    await client.post(f"/api/employees/{alice.id}/reactivate", headers=boss.headers)
    stale = await client.get("/api/users/me", headers=alice.headers)
    assert stale.json()["detail"].startswith("Your session has expired")
