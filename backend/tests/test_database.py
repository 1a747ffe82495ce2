"""The admission queue in front of the connection pool: first come, first served."""

import asyncio

import pytest
from sqlalchemy import text

from contoso.database import TURN, create_database, released
from contoso.errors import Busy


async def test_requests_get_the_database_in_the_order_they_asked(settings):
    database = create_database(settings.model_copy(update={"db_pool_size": 1}))
    served: list[str] = []

    async def request(name: str) -> None:
        async with database.admitted():
            served.append(name)
            await asyncio.sleep(0)

    async with database.admitted():
        waiting = [asyncio.create_task(request(f"waiter {n}")) for n in range(20)]
        await asyncio.sleep(0)  # all twenty are queued behind the one inside
    # A newcomer arriving as the slot frees up queues behind them, never ahead.
    newcomer = asyncio.create_task(request("newcomer"))
    await asyncio.gather(*waiting, newcomer)

    assert served == [f"waiter {n}" for n in range(20)] + ["newcomer"]
    await database.dispose()


async def test_a_request_that_waits_too_long_is_told_the_service_is_busy(settings):
    database = create_database(settings.model_copy(update={"db_pool_size": 1, "db_timeout": 0.05}))

    async with database.admitted():
        with pytest.raises(Busy) as refused:
            async with database.admitted():
                pass
    async with database.admitted():  # the slot was not lost to the timeout
        pass
    await database.dispose()
    assert refused.value.status_code == 503
    assert refused.value.response_headers() == {"Retry-After": "2"}


async def test_a_released_turn_is_given_back_and_taken_again(settings):
    database = create_database(settings.model_copy(update={"db_pool_size": 1, "db_timeout": 0.05}))

    async with database.admitted() as turn, database.sessionmaker(info={TURN: turn}) as session:
        await session.execute(text("SELECT 1"))
        # Meanwhile another request gets the one turn, and a connection.
        async with released(session), database.admitted(), database.engine.connect() as other:
            assert await other.scalar(text("SELECT 2")) == 2
        assert await session.scalar(text("SELECT 3")) == 3
        with pytest.raises(Busy):  # and the turn is this request's again
            async with database.admitted():
                pass
    await database.dispose()
