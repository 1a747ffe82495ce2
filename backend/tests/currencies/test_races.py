"""Exchange rates recorded at once for the same currency and day, on real connections:
one rate is kept, and every other request learns whether it agreed with it."""

import asyncio

import pytest

from contoso.currencies import service as currencies_service
from contoso.currencies.schemas import ExchangeRateCreate
from contoso.models import User
from tests.support.locks import blocked_behind

RATES = "/api/exchange-rates"
DAY = "2025-01-10"


async def post_rate(client, employer, rate, valid_from=DAY):
    body = {"currency": "EUR", "rate": rate, "valid_from": valid_from}
    return await client.post(RATES, json=body, headers=employer.headers)


async def recorded(client, account):
    return (await client.get(RATES, headers=account.headers)).json()["items"]


async def test_different_rates_for_one_day_at_once_record_exactly_one(client, factory, figures):
    bosses = [await factory.employer() for _ in range(2)]

    responses = await asyncio.gather(
        *(post_rate(client, bosses[n % 2], f"1.1{n}") for n in range(10))
    )

    codes = [response.status_code for response in responses]
    assert sorted(codes) == [201] + [409] * 9
    kept = next(response.json() for response in responses if response.status_code == 201)
    assert await recorded(client, bosses[0]) == [kept]
    for response in responses:
        if response.status_code == 409:
            assert f"EUR from {DAY}: {kept['rate']} is recorded" in response.json()["detail"]
    figures.add("races: 10 different rates for one currency and day", requests=10, recorded=1)


async def test_the_same_rate_at_once_is_recorded_once_and_the_others_find_it(client, factory):
    bosses = [await factory.employer() for _ in range(2)]

    responses = await asyncio.gather(*(post_rate(client, bosses[n % 2], "1.15") for n in range(10)))

    assert sorted(response.status_code for response in responses) == [200] * 9 + [201]
    assert len({response.json()["id"] for response in responses}) == 1
    assert len(await recorded(client, bosses[0])) == 1


@pytest.mark.parametrize(("second", "status"), [("1.2", 409), ("1.1", 200)])
async def test_a_rate_waits_for_one_being_recorded_for_its_day_then_answers_by_it(
    client, factory, app, second, status
):
    first_boss, second_boss = await factory.employer(), await factory.employer()
    async with app.state.database.sessionmaker() as session:
        employer = await session.get(User, first_boss.id)
        assert employer is not None
        in_progress = await currencies_service.add_rate(
            session, employer, ExchangeRateCreate(currency="EUR", rate="1.1", valid_from=DAY)
        )
        racing = asyncio.create_task(post_rate(client, second_boss, second))
        # Held back by the uncommitted rate for the same day, not recorded beside it.
        await blocked_behind(session, racing)
        await session.commit()

    response = await racing

    assert response.status_code == status, response.text
    [kept] = await recorded(client, second_boss)
    assert (kept["id"], kept["rate"]) == (in_progress.rate.id, "1.1")


async def test_a_rate_whose_first_writer_gives_up_is_recorded_by_the_second(client, factory, app):
    first_boss, second_boss = await factory.employer(), await factory.employer()
    async with app.state.database.sessionmaker() as session:
        employer = await session.get(User, first_boss.id)
        assert employer is not None
        await currencies_service.add_rate(
            session, employer, ExchangeRateCreate(currency="EUR", rate="1.1", valid_from=DAY)
        )
        racing = asyncio.create_task(post_rate(client, second_boss, "1.2"))
        await blocked_behind(session, racing)
        await session.rollback()

    response = await racing

    assert response.status_code == 201, response.text
    [kept] = await recorded(client, second_boss)
    assert (kept["rate"], kept["created_by"]["id"]) == ("1.2", second_boss.id)
