"""The console's page to change the employer's own password, in its menu."""

from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient

from tests.support.console import ConsoleBrowser
from tests.support.factories import PASSWORD
from tests.support.forms import csrf_from, submit_form
from tests.support.password_resets import emailed_token

NEW_PASSWORD = "a brand new passphrase"
PAGE = "/admin/settings/password"


@pytest.fixture
async def other_browser(app) -> AsyncIterator[ConsoleBrowser]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        yield ConsoleBrowser(http)


async def test_the_menu_links_to_the_page(browser, factory):
    boss = await factory.employer()
    await browser.login_as(boss)

    dashboard = await browser.client.get("/admin/")
    page = await browser.client.get(PAGE)

    # SQLAdmin's menu links name the host, as its other menu items do.
    assert f'{PAGE}"' in dashboard.text and "Change password" in dashboard.text
    assert page.status_code == 200 and "Current password" in page.text


async def test_changing_it_keeps_this_console_in_and_logs_out_the_others(
    browser, other_browser, factory
):
    boss = await factory.employer()
    await browser.login_as(boss)
    await other_browser.login_as(boss)

    changed = await submit_form(
        browser.client,
        PAGE,
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
    )
    mine = await browser.client.get("/admin/")
    theirs = await other_browser.client.get("/admin/")
    old = await other_browser.login(boss.email, PASSWORD)
    new = await other_browser.login(boss.email, NEW_PASSWORD)

    assert changed.status_code == 303 and changed.headers["location"].endswith("/admin/")
    assert mine.status_code == 200 and "Every other browser and app was logged out" in mine.text
    assert theirs.status_code == 302 and "/admin/login" in theirs.headers["location"]
    assert old.status_code == 401 and new.status_code == 303


async def test_a_wrong_current_password_or_a_mismatch_changes_nothing(browser, factory):
    boss = await factory.employer()
    await browser.login_as(boss)

    wrong = await submit_form(
        browser.client,
        PAGE,
        {
            "current_password": "not mine",
            "new_password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
    )
    differ = await submit_form(
        browser.client,
        PAGE,
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "password_again": "other"},
    )
    no_token = await browser.client.post(
        PAGE,
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
    )

    assert wrong.status_code == 403 and "current password is not right" in wrong.text
    assert differ.status_code == 400 and "not the same" in differ.text
    assert no_token.status_code == 403
    logged_in = await factory.client.post(
        "/api/auth/login", json={"email": boss.email, "password": PASSWORD}
    )
    assert logged_in.status_code == 200


async def test_an_employer_resets_a_forgotten_password_and_lands_in_the_console(
    app, client, factory
):
    boss = await factory.employer()
    await submit_form(client, "/forgot-password", {"email": boss.email})
    token = await emailed_token(app, boss.email)
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
    console = await client.get("/admin/")

    assert changed.status_code == 303 and changed.headers["location"] == "/admin/"
    assert console.status_code == 200
