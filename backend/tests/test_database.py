"""The admission queue in front of the connection pool: first come, first served."""

import asyncio

import pytest
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from contoso.database import create_database


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


async def test_a_request_that_waits_too_long_is_a_pool_timeout(settings):
    database = create_database(settings.model_copy(update={"db_pool_size": 1, "db_timeout": 0.05}))

    async with database.admitted():
        with pytest.raises(PoolTimeoutError):
            async with database.admitted():
                pass
    async with database.admitted():  # the slot was not lost to the timeout
        pass
    await database.dispose()
