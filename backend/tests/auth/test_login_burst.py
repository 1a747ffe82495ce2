"""A burst of logins waits for the hashing threads without holding the database: the
other requests go on."""

import asyncio

from tests.support.apps import app_with

PASSWORD = "a-long-password-1234"


async def test_logins_queued_for_hashing_hold_no_turn_at_the_database(settings, app, figures):
    # One request at a time may use the database, another waits at most 0.5 s; each
    # bcrypt check costs a real 2^12 rounds, and two threads take them in turn.
    overrides = {"db_pool_size": 1, "db_timeout": 0.5, "password_hash_rounds": 12}
    async with app_with(settings, **overrides) as (_, http):
        registered = await http.post(
            "/api/auth/register",
            json={"email": "mei@example.com", "password": PASSWORD, "username": "Mei"},
        )
        headers = {"Authorization": f"Bearer {registered.json()['access_token']}"}
        credentials = {"email": "mei@example.com", "password": PASSWORD}
        burst = asyncio.gather(*(http.post("/api/auth/login", json=credentials) for _ in range(8)))
        listed = []
        while not burst.done():
            listed.append(await http.get("/api/tickets", headers=headers))
            await asyncio.sleep(0.05)
        logins = await burst

    assert [response.status_code for response in logins] == [200] * 8
    assert len(listed) >= 5  # eight checks two at a time: a second or so
    assert {response.status_code for response in listed} == {200}
    figures.add("hardening: lists during 8 logins, 1 connection", lists_200=len(listed))
