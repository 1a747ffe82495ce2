"""`Idempotency-Key` on filing: a client that retries a filing (a timeout, a lost
answer) gets the ticket it filed the first time instead of a second one."""

import asyncio
from datetime import date

from sqlalchemy import text

from contoso.models import User
from contoso.tickets import service as tickets_service
from contoso.tickets.schemas import TicketCreate
from tests.support.locks import blocked_behind

TODAY = date.today().isoformat()
BODY = {"spent_on": TODAY, "amount": "42.50", "description": "Taxi to the client"}


def keyed(account, key):
    return account.headers | {"Idempotency-Key": key}


async def file(client, account, body=BODY, key=None):
    headers = keyed(account, key) if key else account.headers
    return await client.post("/api/tickets", json=body, headers=headers)


async def ticket_ids(app, owner):
    async with app.state.database.engine.connect() as connection:
        found = await connection.scalars(
            text("SELECT id FROM tickets WHERE owner_id = :id ORDER BY id"), {"id": owner.id}
        )
        return found.all()


async def test_a_retried_filing_returns_the_first_ticket(client, factory, app):
    alice = await factory.employee()

    first = await file(client, alice, key="a2f4c1d0-retry")
    again = await file(client, alice, key="a2f4c1d0-retry")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert await ticket_ids(app, alice) == [first.json()["id"]]


async def test_the_same_body_written_differently_is_the_same_filing(client, factory, app):
    alice = await factory.employee()
    first = await file(client, alice, key="k1")

    rewritten = {"amount": 42.5, "description": "Taxi to the client", "spent_on": TODAY}
    again = await file(client, alice, {**rewritten, "links": []}, key="k1")
    # The company's currency, named this time.
    named = await file(client, alice, {**rewritten, "currency": "usd"}, key="k1")

    assert (again.status_code, named.status_code) == (200, 200)
    assert again.json()["id"] == named.json()["id"] == first.json()["id"]
    assert len(await ticket_ids(app, alice)) == 1


async def test_the_same_key_with_another_body_is_409(client, factory, app):
    alice = await factory.employee()
    first = await file(client, alice, key="k1")

    other = await file(client, alice, BODY | {"amount": "43.00"}, key="k1")

    assert other.status_code == 409
    assert "Idempotency-Key was already used" in other.json()["detail"]
    assert await ticket_ids(app, alice) == [first.json()["id"]]


async def test_keys_belong_to_each_employee(client, factory, app):
    alice, bob = await factory.employee(), await factory.employee()
    mine = await file(client, alice, key="shared-key")

    theirs = await file(client, bob, key="shared-key")

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert theirs.json()["owner"]["id"] == bob.id
    assert await ticket_ids(app, bob) == [theirs.json()["id"]]
    assert await ticket_ids(app, alice) == [mine.json()["id"]]


async def test_a_key_older_than_a_day_files_afresh(client, factory, app):
    alice = await factory.employee()
    first = await file(client, alice, key="k1")
    async with app.state.database.engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE idempotency_keys SET created_at = now() - interval '25 hours'"
                " WHERE user_id = :id"
            ),
            {"id": alice.id},
        )

    fresh = await file(client, alice, BODY | {"amount": "43.00"}, key="k1")
    again = await file(client, alice, BODY | {"amount": "43.00"}, key="k1")

    assert fresh.status_code == 201
    assert fresh.json()["id"] != first.json()["id"]
    assert again.status_code == 200
    assert again.json()["id"] == fresh.json()["id"]
    assert len(await ticket_ids(app, alice)) == 2


async def test_a_key_just_under_a_day_old_still_returns_the_first_ticket(client, factory, app):
    alice = await factory.employee()
    first = await file(client, alice, key="k1")
    async with app.state.database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE idempotency_keys SET created_at = now() - interval '23 hours 59 minutes'")
        )

    again = await file(client, alice, key="k1")

    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]


async def test_a_refused_filing_does_not_use_up_its_key(client, factory, app):
    alice = await factory.employee()

    refused = await file(client, alice, BODY | {"category_id": 999999}, key="k1")
    filed = await file(client, alice, key="k1")

    assert refused.status_code == 422
    assert filed.status_code == 201
    assert await ticket_ids(app, alice) == [filed.json()["id"]]


async def test_bad_keys_file_nothing(client, factory, app):
    alice = await factory.employee()

    with_space = await file(client, alice, key="not a key")
    too_long = await file(client, alice, key="k" * 256)

    assert (with_space.status_code, too_long.status_code) == (422, 422)
    assert with_space.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await ticket_ids(app, alice) == []
    assert (await file(client, alice, key="k" * 255)).status_code == 201


async def test_ten_identical_filings_at_once_with_one_key_file_one_ticket(
    client, factory, app, figures
):
    alice = await factory.employee()

    responses = await asyncio.gather(*(file(client, alice, key="double-click") for _ in range(10)))

    codes = sorted(response.status_code for response in responses)
    assert codes == [200] * 9 + [201]
    assert {response.json()["id"] for response in responses} == set(await ticket_ids(app, alice))
    assert len(await ticket_ids(app, alice)) == 1
    figures.add("races: 10 filings with one Idempotency-Key", filings=10, filed=1)


async def test_identical_filings_at_once_without_a_key_are_both_filed_and_flagged(
    client, factory, app
):
    alice = await factory.employee()

    first, second = await asyncio.gather(file(client, alice), file(client, alice))

    assert (first.status_code, second.status_code) == (201, 201)
    ids = await ticket_ids(app, alice)
    assert sorted([first.json()["id"], second.json()["id"]]) == ids
    for ticket_id in ids:
        seen = (await client.get(f"/api/tickets/{ticket_id}", headers=alice.headers)).json()
        assert seen["flags"] == ["possible_duplicate"]
        assert seen["duplicate_of"] == [other for other in ids if other != ticket_id]


async def test_a_filing_waits_for_the_same_employees_filing_in_progress_and_sees_it(
    client, factory, app
):
    alice = await factory.employee()
    async with app.state.database.sessionmaker() as session:
        owner = await session.get(User, alice.id)
        in_progress = await tickets_service.file_ticket(session, owner, TicketCreate(**BODY))
        second = asyncio.create_task(file(client, alice))
        # Held back by the first filing's hold on Alice's row, not filed blind beside it.
        await blocked_behind(session, second, row_of="users")
        await session.commit()

    response = await second

    assert response.status_code == 201
    assert response.json()["duplicate_of"] == [in_progress.id]
    first = await client.get(f"/api/tickets/{in_progress.id}", headers=alice.headers)
    assert first.json()["duplicate_of"] == [response.json()["id"]]
