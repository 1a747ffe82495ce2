"""A company that reimburses in yen: its limits, company amounts and totals are whole
yen, rounded half to even, whatever currency a ticket was spent in."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from httpx import ASGITransport, AsyncClient

from contoso.bootstrap import migrate
from contoso.main import create_app
from tests.support.databases import recreate_database, scratch_name
from tests.support.factories import Account, Factory


@dataclass
class Company:
    http: AsyncClient
    factory: Factory
    # Recorded USD at 150.5 yen from 2025-01-01.
    boss: Account


@pytest.fixture(scope="module")
async def in_yen(database_url, settings) -> AsyncIterator[Company]:
    """The app on a database created with COMPANY_CURRENCY=JPY."""
    url = await recreate_database(database_url, scratch_name(database_url, "jpy_company"))
    await asyncio.to_thread(migrate, url, currency="JPY")
    app = create_app(settings.model_copy(update={"database_url": url, "company_currency": "JPY"}))
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
            factory = Factory(http)
            boss = await factory.employer()
            await factory.rate(boss, "USD", "150.5", "2025-01-01")
            yield Company(http, factory, boss)
    finally:
        await app.state.database.dispose()


@pytest.mark.parametrize(
    ("limits", "status", "shown"),
    [
        ({"max_amount": "1500", "receipt_required_above": 0}, 201, ("1500", "0")),
        ({"max_amount": "1500.00", "receipt_required_above": "10000"}, 201, ("1500", "10000")),
        ({"max_amount": "1500.5"}, 422, "JPY has no minor units"),
        ({"receipt_required_above": 0.5}, 422, "JPY has no minor units"),
    ],
)
async def test_limits_are_whole_yen(in_yen, limits, status, shown):
    http, boss = in_yen.http, in_yen.boss
    name = f"Travel {next(iter(limits.values()))} {status}"

    response = await http.post(
        "/api/categories", json={"name": name} | limits, headers=boss.headers
    )

    assert response.status_code == status, response.text
    if status == 201:
        category = response.json()
        assert (category["max_amount"], category["receipt_required_above"]) == shown
    else:
        assert shown in response.json()["detail"][0]["msg"]


async def test_a_limit_changed_to_a_fraction_of_a_yen_is_422_and_changes_nothing(in_yen):
    http, boss = in_yen.http, in_yen.boss
    created = await http.post(
        "/api/categories", json={"name": "Meals", "max_amount": "5000"}, headers=boss.headers
    )
    url = f"/api/categories/{created.json()['id']}"

    refused = await http.patch(url, json={"max_amount": "4999.99"}, headers=boss.headers)

    assert refused.status_code == 422
    assert "JPY has no minor units" in refused.json()["detail"][0]["msg"]
    assert (await http.get(url, headers=boss.headers)).json()["max_amount"] == "5000"


@pytest.mark.parametrize(
    ("dollars", "yen"),
    [
        ("1.00", "150"),  # 150.5: down to the even yen
        ("3.00", "452"),  # 451.5: up to the even yen
        ("0.01", "2"),  # 1.505
        ("100.00", "15050"),
    ],
)
async def test_dollars_are_converted_to_whole_yen_half_to_even(in_yen, dollars, yen):
    factory = in_yen.factory
    alice = await factory.employee()

    ticket = await factory.ticket(alice, "USD", amount=dollars, spent_on="2025-02-01")

    assert (ticket["amount"], ticket["currency"], ticket["company_amount"]) == (
        dollars,
        "USD",
        yen,
    )
    assert (ticket["exchange_rate"], ticket["rate_date"]) == ("150.5", "2025-01-01")


async def test_yen_need_no_rate_and_what_is_owed_is_in_yen(in_yen):
    http, factory, boss = in_yen.http, in_yen.factory, in_yen.boss
    alice = await factory.employee()
    before = (await http.get("/api/users/me", headers=alice.headers)).json()["owed"]
    yen = await factory.ticket(alice, amount="10000")
    dollars = await factory.ticket(alice, "USD", amount="3.00", spent_on="2025-02-01")
    await http.post(
        "/api/tickets/decisions",
        json={"ticket_ids": [yen["id"], dollars["id"]], "decision": "approve"},
        headers=boss.headers,
    )

    after = (await http.get("/api/users/me", headers=alice.headers)).json()["owed"]
    own_rate = await http.post(
        "/api/exchange-rates",
        json={"currency": "JPY", "rate": "1", "valid_from": "2025-01-01"},
        headers=boss.headers,
    )

    assert (yen["amount"], yen["company_amount"], yen["exchange_rate"]) == ("10000", "10000", "1")
    assert before == {"tickets": 0, "amount": "0", "currency": "JPY"}
    assert after == {"tickets": 2, "amount": "10452", "currency": "JPY"}
    assert own_rate.status_code == 422
    assert "JPY is the company's currency" in own_rate.json()["detail"][0]["msg"]
