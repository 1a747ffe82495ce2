"""Passwords on the employee pages: "Forgot your password?" from the login page through
the emailed link, and changing it on the settings page; CSRF on every form."""

from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient

from tests.support.factories import PASSWORD, Account
from tests.support.forms import csrf_from, submit_form
from tests.support.password_resets import emailed_token, reset_emails
from tests.web.pages import log_in, words

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def other_browser(app) -> AsyncIterator[AsyncClient]:
    """A second browser, with cookies of its own."""
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        yield http


async def log_in_with(client: AsyncClient, account: Account, password: str):
    return await submit_form(client, "/", {"email": account.email, "password": password})


async def test_both_login_pages_offer_a_reset_link(client):
    pages = [await client.get("/"), await client.get("/admin/login")]

    for page in pages:
        assert 'href="/forgot-password"' in page.text
        assert "Forgot your password?" in page.text


async def test_a_forgotten_password_is_reset_from_the_login_page(app, client, factory):
    mei = await factory.employee()

    asked = await submit_form(client, "/forgot-password", {"email": mei.email})
    told = await client.get(asked.headers["location"])
    token = await emailed_token(app, mei.email)
    link = await client.get("/reset-password", params={"token": token})
    changed = await client.post(
        "/reset-password",
        data={
            "token": token,
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
            "csrf_token": csrf_from(link),
        },
    )
    home = await client.get(changed.headers["location"])

    assert asked.status_code == 303 and asked.headers["location"] == "/"
    assert "If an account has this address" in words(told.text)
    assert link.status_code == 200 and f'value="{token}"' in link.text
    assert changed.status_code == 303 and changed.headers["location"] == "/tickets"
    assert home.status_code == 200 and "Every other browser and app was logged out" in home.text
    # The browser that reset it is logged in with the new password; the old one is gone.
    await client.post("/logout", data={"csrf_token": csrf_from(home)})
    assert (await log_in_with(client, mei, PASSWORD)).status_code == 401
    assert (await log_in_with(client, mei, NEW_PASSWORD)).status_code == 303


async def test_an_unknown_address_is_told_the_same_and_gets_no_email(app, client):
    asked = await submit_form(client, "/forgot-password", {"email": "nobody@example.com"})
    told = await client.get(asked.headers["location"])

    assert asked.status_code == 303
    assert "If an account has this address" in words(told.text)
    assert await reset_emails(app) == []


async def test_opening_a_link_changes_nothing_and_a_dead_link_says_to_ask_again(
    app, client, factory
):
    mei = await factory.employee()
    await submit_form(client, "/forgot-password", {"email": mei.email})
    token = await emailed_token(app, mei.email)

    opened = [await client.get("/reset-password", params={"token": token}) for _ in range(3)]
    dead = await client.get("/reset-password", params={"token": "made-up"})
    used = await client.post(
        "/reset-password",
        data={
            "token": "made-up",
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
            "csrf_token": csrf_from(opened[0]),
        },
    )

    assert [page.status_code for page in opened] == [200, 200, 200]
    assert dead.status_code == 400 and "Ask for a new link" in dead.text
    assert 'href="/forgot-password"' in dead.text
    assert used.status_code == 400 and "Ask for a new link" in used.text


async def test_the_reset_form_refuses_two_different_passwords_and_keeps_the_link(
    app, client, factory
):
    mei = await factory.employee()
    await submit_form(client, "/forgot-password", {"email": mei.email})
    token = await emailed_token(app, mei.email)
    link = await client.get("/reset-password", params={"token": token})
    form = {"token": token, "csrf_token": csrf_from(link)}

    differ = await client.post(
        "/reset-password",
        data=form | {"password": NEW_PASSWORD, "password_again": "something else"},
    )
    short = await client.post(
        "/reset-password", data=form | {"password": "short"} | {"password_again": "short"}
    )
    works = await client.post(
        "/reset-password", data=form | {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    )

    assert differ.status_code == 400 and "not the same" in differ.text
    assert short.status_code == 400 and "at least 8 characters" in short.text
    assert works.status_code == 303


async def test_page_forms_without_the_csrf_token_are_refused(app, client, factory):
    mei = await factory.employee()
    await client.get("/forgot-password")

    asked = await client.post("/forgot-password", data={"email": mei.email})
    await log_in(client, mei)
    changed = await client.post(
        "/tickets/settings/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
    )

    assert asked.status_code == 403 and changed.status_code == 403
    assert await reset_emails(app) == []
    assert (
        await factory.client.post(
            "/api/auth/login", json={"email": mei.email, "password": PASSWORD}
        )
    ).status_code == 200


async def test_changing_the_password_keeps_this_browser_in_and_logs_out_the_others(
    client, other_browser, factory
):
    mei = await factory.employee()
    await log_in(client, mei)
    await log_in(other_browser, mei)

    page = await client.get("/tickets")
    settings = await client.get("/tickets/settings/password")
    changed = await submit_form(
        client,
        "/tickets/settings/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
    )
    mine = await client.get("/tickets")
    theirs = await other_browser.get("/tickets")
    api = await factory.client.get("/api/users/me", headers=mei.headers)

    assert 'href="/tickets/settings/password"' in page.text
    assert settings.status_code == 200 and "Current password" in settings.text
    assert changed.status_code == 303 and changed.headers["location"] == "/tickets"
    assert mine.status_code == 200 and "Every other browser and app was logged out" in mine.text
    assert theirs.status_code == 303 and theirs.headers["location"] == "/?next=%2Ftickets"
    assert api.status_code == 401


async def test_a_wrong_current_password_is_refused_then_throttled(client, factory):
    mei = await factory.employee()
    await log_in(client, mei)
    wrong = {"current_password": "not my password", "new_password": NEW_PASSWORD}
    wrong["password_again"] = NEW_PASSWORD

    answers = [await submit_form(client, "/tickets/settings/password", wrong) for _ in range(11)]
    still_in = await client.get("/tickets")

    assert [answer.status_code for answer in answers] == [403] * 10 + [429]
    assert "current password is not right" in words(answers[0].text)
    assert "Retry-After" in answers[-1].headers
    assert still_in.status_code == 200
