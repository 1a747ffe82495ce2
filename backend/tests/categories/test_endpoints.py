"""Categories: employers define them with their policy, everyone files under the active
ones, and a category's new limits re-flag the tickets still waiting for a decision."""

from datetime import date

import pytest

TODAY = date.today().isoformat()


async def create_category(client, boss, **fields):
    body = {"name": "Travel"} | fields
    response = await client.post("/api/categories", json=body, headers=boss.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def general(client, account):
    listed = (await client.get("/api/categories", headers=account.headers)).json()
    return next(category for category in listed if category["is_default"])


def names(categories):
    return [category["name"] for category in categories]


async def test_an_employer_defines_a_category_and_employees_file_under_it(client, factory):
    boss, alice = await factory.employer(), await factory.employee()

    created = await client.post(
        "/api/categories",
        json={
            "name": "Travel",
            "description": "Flights, trains and hotels",
            "max_amount": "1500",
            "receipt_required_above": 25,
        },
        headers=boss.headers,
    )

    assert created.status_code == 201
    travel = created.json()
    assert travel | {"id": 0, "created_at": "", "updated_at": ""} == {
        "id": 0,
        "name": "Travel",
        "description": "Flights, trains and hotels",
        "active": True,
        "is_default": False,
        "max_amount": "1500.00",
        "receipt_required_above": "25.00",
        "created_at": "",
        "updated_at": "",
    }
    listed = (await client.get("/api/categories", headers=alice.headers)).json()
    assert names(listed) == ["General", "Travel"]
    fetched = await client.get(f"/api/categories/{travel['id']}", headers=alice.headers)
    assert fetched.json() == travel
    ticket = await factory.ticket(alice, category_id=travel["id"])
    assert ticket["category"] == {"id": travel["id"], "name": "Travel"}


async def test_a_ticket_filed_without_a_category_goes_to_general(client, factory):
    alice = await factory.employee()

    ticket = await factory.ticket(alice)
    explicit_null = await factory.ticket(alice, category_id=None)

    default = await general(client, alice)
    assert ticket["category"] == {"id": default["id"], "name": "General"}
    assert explicit_null["category"] == ticket["category"]
    assert (default["max_amount"], default["receipt_required_above"]) == (None, None)
    assert ticket["flags"] == []


async def test_a_deactivated_category_is_listed_only_to_employers_who_ask(client, factory):
    boss, alice = await factory.employer(), await factory.employee()
    travel = await create_category(client, boss, name="Travel")
    await create_category(client, boss, name="Meals")

    deactivated = await client.patch(
        f"/api/categories/{travel['id']}", json={"active": False}, headers=boss.headers
    )

    assert deactivated.status_code == 200
    assert deactivated.json()["active"] is False
    url = "/api/categories?include_inactive=true"
    assert names((await client.get("/api/categories", headers=alice.headers)).json()) == [
        "General",
        "Meals",
    ]
    assert names((await client.get(url, headers=alice.headers)).json()) == ["General", "Meals"]
    # The retired one after the active ones.
    assert names((await client.get(url, headers=boss.headers)).json()) == [
        "General",
        "Meals",
        "Travel",
    ]
    hidden = await client.get(f"/api/categories/{travel['id']}", headers=alice.headers)
    assert hidden.status_code == 404
    shown = await client.get(f"/api/categories/{travel['id']}", headers=boss.headers)
    assert shown.json()["active"] is False


async def test_an_employer_changes_a_category_and_omitted_fields_keep_their_value(client, factory):
    boss = await factory.employer()
    travel = await create_category(
        client, boss, description="Trips", max_amount="100.00", receipt_required_above="10.00"
    )

    renamed = await client.patch(
        f"/api/categories/{travel['id']}",
        json={"name": "Business travel", "max_amount": None},
        headers=boss.headers,
    )

    assert renamed.status_code == 200
    changed = renamed.json()
    assert (changed["name"], changed["description"]) == ("Business travel", "Trips")
    assert (changed["max_amount"], changed["receipt_required_above"]) == (None, "10.00")
    assert changed["updated_at"] > travel["updated_at"]
    listed = (await client.get("/api/categories", headers=boss.headers)).json()
    assert "Business travel" in names(listed)


async def test_employees_cannot_create_or_change_categories(client, factory):
    boss, alice = await factory.employer(), await factory.employee()
    travel = await create_category(client, boss)

    created = await client.post("/api/categories", json={"name": "Mine"}, headers=alice.headers)
    changed = await client.patch(
        f"/api/categories/{travel['id']}", json={"max_amount": "1"}, headers=alice.headers
    )

    assert (created.status_code, changed.status_code) == (403, 403)
    listed = (await client.get("/api/categories", headers=boss.headers)).json()
    assert names(listed) == ["General", "Travel"]
    assert next(c for c in listed if c["name"] == "Travel")["max_amount"] is None


async def test_categories_need_a_login(client):
    assert (await client.get("/api/categories")).status_code == 401
    assert (await client.post("/api/categories", json={"name": "X"})).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"name": "Two\nlines"}, "name"),
        ({"name": "Travel", "max_amount": "-5"}, "max_amount"),
        ({"name": "Travel", "max_amount": "0"}, "max_amount"),
        ({"name": "Travel", "max_amount": "1.001"}, "max_amount"),
        ({"name": "Travel", "receipt_required_above": "-0.01"}, "receipt_required_above"),
        ({"name": "Travel", "is_default": True}, "is_default"),
    ],
)
async def test_a_bad_category_is_422_and_nothing_is_created(client, factory, body, field):
    boss = await factory.employer()

    response = await client.post("/api/categories", json=body, headers=boss.headers)

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", field]]
    listed = await client.get("/api/categories?include_inactive=true", headers=boss.headers)
    assert names(listed.json()) == ["General"]


async def test_a_name_of_64_characters_and_a_receipt_threshold_of_zero_are_accepted(
    client, factory
):
    boss = await factory.employer()

    created = await create_category(
        client, boss, name="x" * 64, receipt_required_above="0", max_amount="0.01"
    )

    assert created["receipt_required_above"] == "0.00"
    assert created["max_amount"] == "0.01"


@pytest.mark.parametrize(
    "body", [{"max_amount": "0"}, {"name": ""}, {"name": None}, {"active": None}, {"id": 5}]
)
async def test_a_bad_change_is_422_and_changes_nothing(client, factory, body):
    boss = await factory.employer()
    travel = await create_category(client, boss, max_amount="100.00")

    response = await client.patch(
        f"/api/categories/{travel['id']}", json=body, headers=boss.headers
    )

    assert response.status_code == 422
    unchanged = await client.get(f"/api/categories/{travel['id']}", headers=boss.headers)
    assert unchanged.json() == travel


async def test_names_are_unique_ignoring_capitals(client, factory):
    boss = await factory.employer()
    travel = await create_category(client, boss, name="Travel")
    meals = await create_category(client, boss, name="Meals")

    again = await client.post("/api/categories", json={"name": "tRAVEL"}, headers=boss.headers)
    renamed = await client.patch(
        f"/api/categories/{meals['id']}", json={"name": "TRAVEL"}, headers=boss.headers
    )
    like_the_default = await client.post(
        "/api/categories", json={"name": "general"}, headers=boss.headers
    )
    recapitalised = await client.patch(
        f"/api/categories/{travel['id']}", json={"name": "TRAVEL"}, headers=boss.headers
    )

    assert again.status_code == 409
    assert again.json()["detail"] == (
        "A category named “tRAVEL” already exists (names ignore capitals)."
    )
    assert renamed.status_code == 409
    assert like_the_default.status_code == 409
    # A category may change its own capitals.
    assert recapitalised.status_code == 200
    listed = (await client.get("/api/categories", headers=boss.headers)).json()
    assert names(listed) == ["General", "Meals", "TRAVEL"]


async def test_the_default_category_cannot_be_deactivated(client, factory):
    boss = await factory.employer()
    default = await general(client, boss)

    refused = await client.patch(
        f"/api/categories/{default['id']}", json={"active": False}, headers=boss.headers
    )
    renamed = await client.patch(
        f"/api/categories/{default['id']}",
        json={"name": "Other", "max_amount": "500"},
        headers=boss.headers,
    )

    assert refused.status_code == 409
    assert "default category" in refused.json()["detail"]
    # It can still be renamed and given limits; it stays active and the default.
    assert renamed.status_code == 200
    assert (renamed.json()["active"], renamed.json()["is_default"]) == (True, True)
    assert renamed.json()["max_amount"] == "500.00"


async def test_unknown_categories_are_404(client, factory):
    boss = await factory.employer()

    fetched = await client.get("/api/categories/999999", headers=boss.headers)
    changed = await client.patch("/api/categories/999999", json={"name": "X"}, headers=boss.headers)

    assert (fetched.status_code, changed.status_code) == (404, 404)


async def test_filing_under_an_inactive_or_unknown_category_is_422_and_files_nothing(
    client, factory
):
    boss, alice = await factory.employer(), await factory.employee()
    retired = await create_category(client, boss, name="Retired", active=False)
    body = {"spent_on": TODAY, "amount": "10.00", "description": "Taxi"}

    answers = [
        await client.post(
            "/api/tickets", json=body | {"category_id": category_id}, headers=alice.headers
        )
        for category_id in (retired["id"], 999999)
    ]

    for answer, category_id in zip(answers, (retired["id"], 999999), strict=True):
        assert answer.status_code == 422
        [error] = answer.json()["detail"]
        assert error["loc"] == ["body", "category_id"]
        assert error["msg"] == (
            f"There is no active category {category_id}; choose one of the active categories."
        )
    assert (await client.get("/api/tickets", headers=alice.headers)).json()["total"] == 0


async def test_a_category_deactivated_later_keeps_its_tickets(client, factory):
    boss, alice = await factory.employer(), await factory.employee()
    travel = await create_category(client, boss)
    ticket = await factory.ticket(alice, category_id=travel["id"])

    await client.patch(
        f"/api/categories/{travel['id']}", json={"active": False}, headers=boss.headers
    )
    edited = await client.patch(
        f"/api/tickets/{ticket['id']}", json={"amount": "99.00"}, headers=alice.headers
    )

    assert edited.status_code == 200
    assert edited.json()["category"] == {"id": travel["id"], "name": "Travel"}
    listed = await client.get(f"/api/tickets?category_id={travel['id']}", headers=boss.headers)
    assert [t["id"] for t in listed.json()["items"]] == [ticket["id"]]


async def test_an_employee_moves_a_ticket_to_another_category_and_the_history_shows_it(
    client, factory
):
    boss, alice = await factory.employer(), await factory.employee()
    travel = await create_category(client, boss, name="Travel")
    retired = await create_category(client, boss, name="Retired", active=False)
    ticket = await factory.ticket(alice)

    moved = await client.patch(
        f"/api/tickets/{ticket['id']}", json={"category_id": travel["id"]}, headers=alice.headers
    )
    refused = await client.patch(
        f"/api/tickets/{ticket['id']}", json={"category_id": retired["id"]}, headers=alice.headers
    )

    assert moved.status_code == 200
    assert moved.json()["category"] == {"id": travel["id"], "name": "Travel"}
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "category_id"]
    fetched = await client.get(f"/api/tickets/{ticket['id']}", headers=alice.headers)
    assert fetched.json()["category"]["name"] == "Travel"
    history = await client.get(f"/api/tickets/{ticket['id']}/history", headers=alice.headers)
    edits = [event for event in history.json() if event["kind"] == "ticket_edited"]
    assert [edit["changes"] for edit in edits] == [{"category": ["General", "Travel"]}]


async def test_a_new_limit_reflags_pending_tickets_but_not_decided_ones(client, factory):
    boss, alice = await factory.employer(), await factory.employee()
    travel = await create_category(client, boss, max_amount="1000.00")
    pending = await factory.ticket(alice, amount="500.00", category_id=travel["id"])
    approved = await factory.ticket(alice, amount="600.00", category_id=travel["id"])
    elsewhere = await factory.ticket(alice, amount="700.00")
    await client.post(f"/api/tickets/{approved['id']}/approve", headers=boss.headers)
    assert pending["flags"] == []

    lowered = await client.patch(
        f"/api/categories/{travel['id']}",
        json={"max_amount": "100.00", "receipt_required_above": "50.00"},
        headers=boss.headers,
    )

    assert lowered.status_code == 200

    async def flags_of(ticket):
        fetched = await client.get(f"/api/tickets/{ticket['id']}", headers=boss.headers)
        return fetched.json()["flags"]

    assert await flags_of(pending) == ["over_limit", "receipt_missing"]
    assert await flags_of(approved) == []  # decided with the policy of its day
    assert await flags_of(elsewhere) == []
    # Lifting the limits clears them again.
    await client.patch(
        f"/api/categories/{travel['id']}",
        json={"max_amount": None, "receipt_required_above": None},
        headers=boss.headers,
    )
    assert await flags_of(pending) == []
