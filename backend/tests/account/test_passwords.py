"""Forgotten and changed passwords through the JSON API: the emailed link, what it
refuses, and that every older token stops working."""

import asyncio

from httpx import AsyncClient
from sqlalchemy import event, text

from contoso.account.service import forget_expired_reset_links
from tests.support.factories import PASSWORD, Account, Factory
from tests.support.password_resets import emailed_token, reset_emails

NEW_PASSWORD = "a brand new passphrase"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def ask_for_link(client: AsyncClient, email: str):
    return await client.post("/api/auth/password-reset", json={"email": email})


async def confirm(client: AsyncClient, token: str, password: str = NEW_PASSWORD):
    return await client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "password": password}
    )


async def login(client: AsyncClient, account: Account, password: str):
    return await client.post("/api/auth/login", json={"email": account.email, "password": password})


async def test_a_forgotten_password_is_reset_with_the_emailed_link(app, client, factory: Factory):
    mei = await factory.employee()

    asked = await ask_for_link(client, mei.email.upper())
    [(to, email_text, token)] = await reset_emails(app)
    reset = await confirm(client, token)
    new_token = reset.json()["access_token"]

    assert asked.status_code == 202
    assert to == mei.email
    assert "The link works once" in email_text and mei.username in email_text
    assert reset.status_code == 200, reset.text
    assert reset.json()["token_type"] == "bearer"
    assert (await client.get("/api/users/me", headers=mei.headers)).status_code == 401
    me = await client.get("/api/users/me", headers=bearer(new_token))
    assert me.status_code == 200 and me.json()["id"] == mei.id
    assert (await login(client, mei, PASSWORD)).status_code == 401
    assert (await login(client, mei, NEW_PASSWORD)).status_code == 200


async def test_known_unknown_and_suspended_addresses_get_the_same_answer(
    app, client, factory: Factory
):
    boss, mei, lee = await factory.employer(), await factory.employee(), await factory.employee()
    await client.post(f"/api/employees/{lee.id}/suspend", headers=boss.headers)

    answers = [
        await ask_for_link(client, address)
        for address in (mei.email, "nobody@example.com", lee.email)
    ]

    assert {answer.status_code for answer in answers} == {202}
    assert answers[0].json() == answers[1].json() == answers[2].json()
    assert "If an account has this address" in answers[0].json()["message"]
    assert [to for to, _, _ in await reset_emails(app)] == [mei.email]


async def test_known_and_unknown_addresses_cost_the_same_statements(app, client, factory):
    mei = await factory.employee()
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    engine = app.state.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        await ask_for_link(client, mei.email)
        known = list(statements)
        statements.clear()
        await ask_for_link(client, "nobody@example.com")
        unknown = list(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    # One round trip either way, the same statement: only its rows differ.
    assert len(known) == 1 and known == unknown


async def test_requests_for_one_address_from_one_client_are_throttled(client, factory: Factory):
    mei = await factory.employee()

    answers = [await ask_for_link(client, mei.email) for _ in range(6)]
    unknown = [await ask_for_link(client, "nobody@example.com") for _ in range(6)]
    other = await ask_for_link(client, "someone.else@example.com")

    assert [answer.status_code for answer in answers] == [202] * 5 + [429]
    assert [answer.status_code for answer in unknown] == [202] * 5 + [429]
    assert answers[-1].json() == unknown[-1].json()
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert other.status_code == 202


async def test_a_link_works_once(app, client, factory: Factory):
    mei = await factory.employee()
    await ask_for_link(client, mei.email)
    token = await emailed_token(app, mei.email)

    first = await confirm(client, token)
    again = await confirm(client, token, "yet another passphrase")

    assert first.status_code == 200
    assert again.status_code == 400
    assert "Ask for a new link" in again.json()["detail"]
    assert (await login(client, mei, NEW_PASSWORD)).status_code == 200


async def test_a_newer_request_replaces_the_older_link(app, client, factory: Factory):
    mei = await factory.employee()
    await ask_for_link(client, mei.email)
    await ask_for_link(client, mei.email)
    older, newer = [token for _, _, token in await reset_emails(app)]

    refused = await confirm(client, older)
    accepted = await confirm(client, newer)

    assert refused.status_code == 400 and "Ask for a new link" in refused.json()["detail"]
    assert accepted.status_code == 200


async def test_an_expired_link_is_refused(app, client, factory: Factory):
    mei = await factory.employee()
    await ask_for_link(client, mei.email)
    token = await emailed_token(app, mei.email)
    async with app.state.database.engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE password_resets SET created_at = now() - interval '2 hours',"
                " expires_at = now() - interval '1 hour'"
            )
        )

    refused = await confirm(client, token)

    assert refused.status_code == 400 and "Ask for a new link" in refused.json()["detail"]
    assert (await login(client, mei, PASSWORD)).status_code == 200


async def test_a_malformed_or_made_up_token_is_refused_as_a_dead_link(client, factory):
    await factory.employee()

    answers = [await confirm(client, token) for token in ("", "not-a-token", "A" * 43)]

    assert [answer.status_code for answer in answers] == [400, 400, 400]
    assert all("Ask for a new link" in answer.json()["detail"] for answer in answers)


async def test_a_new_password_follows_the_registration_rules(app, client, factory: Factory):
    mei = await factory.employee()
    await ask_for_link(client, mei.email)
    token = await emailed_token(app, mei.email)

    short = await confirm(client, token, "short")
    still = await confirm(client, token)

    assert short.status_code == 422
    assert "at least 8 characters" in short.text
    assert still.status_code == 200  # the refused password did not use the link up


async def test_a_link_asked_for_before_a_suspension_stops_working(app, client, factory):
    boss, mei = await factory.employer(), await factory.employee()
    await ask_for_link(client, mei.email)
    token = await emailed_token(app, mei.email)
    await client.post(f"/api/employees/{mei.id}/suspend", headers=boss.headers)

    refused = await confirm(client, token)

    assert refused.status_code == 400


async def test_two_uses_of_one_link_at_once_set_the_password_once(app, client, factory):
    mei = await factory.employee()
    await ask_for_link(client, mei.email)
    token = await emailed_token(app, mei.email)

    answers = await asyncio.gather(
        confirm(client, token, "first racing passphrase"),
        confirm(client, token, "second racing passphrase"),
    )

    assert sorted(answer.status_code for answer in answers) == [200, 400]
    winner = "first" if answers[0].status_code == 200 else "second"
    assert (await login(client, mei, f"{winner} racing passphrase")).status_code == 200


async def test_changing_the_password_ends_every_other_token(client, factory: Factory):
    mei = await factory.employee()
    other = (await login(client, mei, PASSWORD)).json()["access_token"]

    changed = await client.post(
        "/api/users/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=mei.headers,
    )
    fresh = changed.json()["access_token"]

    assert changed.status_code == 200, changed.text
    assert (await client.get("/api/users/me", headers=mei.headers)).status_code == 401
    assert (await client.get("/api/users/me", headers=bearer(other))).status_code == 401
    assert (await client.get("/api/users/me", headers=bearer(fresh))).status_code == 200
    assert (await login(client, mei, NEW_PASSWORD)).status_code == 200


async def test_a_wrong_current_password_is_refused_and_guessing_is_throttled(client, factory):
    mei = await factory.employee()
    wrong = {"current_password": "not my password", "new_password": NEW_PASSWORD}

    answers = [
        await client.post("/api/users/me/password", json=wrong, headers=mei.headers)
        for _ in range(11)
    ]

    assert [answer.status_code for answer in answers] == [403] * 10 + [429]
    assert "current password is not right" in answers[0].json()["detail"]
    assert "Retry-After" in answers[-1].headers
    # Nothing changed: the token and the password still work.
    assert (await client.get("/api/users/me", headers=mei.headers)).status_code == 200


async def test_a_link_emailed_before_a_password_change_no_longer_works(app, client, factory):
    mei = await factory.employee()
    await ask_for_link(client, mei.email)
    token = await emailed_token(app, mei.email)
    changed = await client.post(
        "/api/users/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=mei.headers,
    )

    refused = await confirm(client, token, "another passphrase entirely")

    assert changed.status_code == 200, changed.text
    assert refused.status_code == 400 and "Ask for a new link" in refused.json()["detail"]
    assert (await login(client, mei, NEW_PASSWORD)).status_code == 200


async def test_expired_links_are_swept_and_working_ones_kept(app, client, factory: Factory):
    mei, ana = await factory.employee(), await factory.employee()
    await ask_for_link(client, mei.email)
    await ask_for_link(client, ana.email)
    async with app.state.database.engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE password_resets SET created_at = now() - interval '2 hours',"
                " expires_at = now() - interval '1 hour' WHERE user_id = :mei"
            ),
            {"mei": mei.id},
        )

    swept = await forget_expired_reset_links(app.state.database)
    again = await forget_expired_reset_links(app.state.database)
    accepted = await confirm(client, await emailed_token(app, ana.email))

    assert (swept, again) == (1, 0)
    assert accepted.status_code == 200, accepted.text
