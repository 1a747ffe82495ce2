"""A category's new limits, set while its employees file tickets under it."""

import asyncio
from datetime import date
from decimal import Decimal

from contoso.categories.schemas import CategoryUpdate
from contoso.categories.service import update_category
from contoso.models import User
from contoso.tickets.schemas import TicketCreate
from contoso.tickets.service import file_ticket
from tests.support.locks import blocked_behind

TODAY = date.today().isoformat()


async def test_new_limits_racing_filings_under_the_category_answer_every_request(
    client, factory, figures
):
    boss, alice, bob = await factory.employer(), await factory.employee(), await factory.employee()
    created = await client.post(
        "/api/categories", json={"name": "Travel", "max_amount": "100.00"}, headers=boss.headers
    )
    travel = created.json()
    # Alice has a pending ticket in it, so each new limit holds her row to re-flag it;
    # Bob has none until his filings, which race the limits without that.
    await factory.ticket(alice, amount="50.00", category_id=travel["id"])

    async def file(n):
        body = {"spent_on": TODAY, "amount": f"{60 + n}.00", "description": "Taxi"}
        return await client.post(
            "/api/tickets",
            json=body | {"category_id": travel["id"]},
            headers=(alice if n % 2 else bob).headers,
        )

    async def set_limit(n):
        return await client.patch(
            f"/api/categories/{travel['id']}",
            json={"max_amount": f"{61 + n}.00"},
            headers=boss.headers,
        )

    responses = await asyncio.gather(
        *(coroutine for n in range(20) for coroutine in (file(n), set_limit(n)))
    )

    assert [response.status_code for response in responses] == [201, 200] * 20
    # Whichever limit was set last, every pending ticket is flagged by it.
    limit = Decimal(
        (await client.get(f"/api/categories/{travel['id']}", headers=boss.headers)).json()[
            "max_amount"
        ]
    )
    listed = await client.get(
        f"/api/tickets?category_id={travel['id']}&limit=200", headers=boss.headers
    )
    tickets = listed.json()["items"]
    assert len(tickets) == 21
    for ticket in tickets:
        over = Decimal(ticket["amount"]) > limit
        assert ticket["flags"] == (["over_limit"] if over else []), (ticket["amount"], limit)
    figures.add("races: 20 new limits vs 20 filings", requests=40, deadlocks=0)


async def test_a_ticket_filed_while_a_limit_changes_is_flagged_by_the_new_limit(
    app, client, factory
):
    boss, bob = await factory.employer(), await factory.employee()
    created = await client.post(
        "/api/categories", json={"name": "Travel", "max_amount": "100.00"}, headers=boss.headers
    )
    travel = created.json()["id"]
    sessions = app.state.database.sessionmaker
    filing, changing = sessions(), sessions()
    try:
        # Bob files 90.00 under the 100.00 limit and has not committed yet...
        bob_user = await filing.get(User, bob.id)
        body = {"spent_on": TODAY, "amount": "90.00", "description": "Taxi", "category_id": travel}
        ticket = await file_ticket(filing, bob_user, TicketCreate.model_validate(body))
        assert ticket.flags == []
        # ...when the limit drops to 80.00: the change waits for the filing to commit.
        boss_user = await changing.get(User, boss.id)

        async def lower_the_limit() -> None:
            await update_category(
                changing, boss_user, travel, CategoryUpdate(max_amount=Decimal("80.00"))
            )
            await changing.commit()

        lowering = asyncio.create_task(lower_the_limit())
        await blocked_behind(filing, lowering)
        await filing.commit()
        await lowering
    finally:
        await filing.close()
        await changing.close()

    seen = await client.get(f"/api/tickets/{ticket.id}", headers=bob.headers)
    assert seen.json()["flags"] == ["over_limit"]
