"""A stranger's wrong passwords cannot lock an account's owner out (outside probe,
finding 11): the limit is per account and client address, and the account's ceiling
across all addresses slows everyone a few seconds rather than locking anyone."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
from httpx import ASGITransport, AsyncClient

from tests.support.factories import PASSWORD
from tests.support.forms import submit_form

Browser = Callable[[str], AbstractAsyncContextManager[AsyncClient]]


@pytest.fixture
def from_address(app) -> Browser:
    """A client of the app whose requests come from `address`."""

    @asynccontextmanager
    async def connect(address: str) -> AsyncIterator[AsyncClient]:
        transport = ASGITransport(app=app, client=(address, 40000))
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            yield client

    return connect


async def _login(client: AsyncClient, email: str, password: str) -> int:
    answer = await client.post("/api/auth/login", json={"email": email, "password": password})
    return answer.status_code


async def test_the_eleventh_wrong_password_from_one_address_is_the_first_refused(
    factory, from_address
):
    boss = await factory.employer()
    async with from_address("203.0.113.5") as stranger:
        codes = [await _login(stranger, boss.email, f"guess-{n:04}") for n in range(11)]
        refused = await stranger.post(
            "/api/auth/login", json={"email": boss.email, "password": PASSWORD}
        )

    assert codes == [401] * 10 + [429]
    assert refused.status_code == 429  # even the right password, from that address
    assert int(refused.headers["retry-after"]) > 14 * 60
    assert refused.json()["detail"].endswith("try again in 15 minutes.")


async def test_another_address_still_logs_in_at_every_door(factory, from_address):
    boss = await factory.employer()
    async with from_address("203.0.113.5") as stranger:
        for n in range(11):
            await _login(stranger, boss.email, f"guess-{n:04}")

    async with from_address("198.51.100.7") as owner:
        api = await owner.post("/api/auth/login", json={"email": boss.email, "password": PASSWORD})
        console = await submit_form(
            owner, "/admin/login", {"username": boss.email, "password": PASSWORD}
        )

    assert api.status_code == 200
    assert (console.status_code, console.headers["location"]) == (303, "/admin/")


async def test_the_pages_say_how_many_minutes_to_wait(factory, from_address):
    alice = await factory.employee()
    async with from_address("203.0.113.5") as browser:
        for n in range(10):
            await submit_form(browser, "/", {"email": alice.email, "password": f"guess-{n:04}"})
        page = await submit_form(browser, "/", {"email": alice.email, "password": PASSWORD})

    assert page.status_code == 429
    assert "try again in 15 minutes" in page.text


async def test_a_flood_from_many_addresses_slows_the_owner_but_never_locks_them_out(
    factory, from_address, figures
):
    # Ten strangers, ten wrong passwords each: the account's ceiling (100) is reached.
    boss = await factory.employer()
    for n in range(10):
        async with from_address(f"203.0.113.{n + 10}") as stranger:
            for guess in range(10):
                assert await _login(stranger, boss.email, f"guess-{guess:04}") == 401

    async with from_address("198.51.100.7") as owner:
        typo = await _login(owner, boss.email, "correct horse battery stapel")
        too_soon = await owner.post(
            "/api/auth/login", json={"email": boss.email, "password": PASSWORD}
        )
    async with from_address("198.51.100.8") as owner_elsewhere:
        right = await _login(owner_elsewhere, boss.email, PASSWORD)
    async with from_address("203.0.113.99") as new_stranger:
        new_stranger_codes = [
            await _login(new_stranger, boss.email, f"guess-{n:04}") for n in range(2)
        ]

    assert typo == 401  # the owner's address has its own turn
    # At once again: a few seconds' wait (100 per 15 minutes: one turn per 9 s).
    assert too_soon.status_code == 429
    assert 0 < int(too_soon.headers["retry-after"]) <= 9
    assert too_soon.json()["detail"].endswith("seconds.")
    assert right == 200  # a right password from an address with its turn gets in
    assert new_stranger_codes == [401, 429]  # past the ceiling, every address is paced
    figures.add(
        "hardening: 100 wrong passwords from 10 addresses, then the owner",
        owner_logged_in=1,
        owner_wait_s_at_most=9,
        wrong_passwords=100,
    )
