"""Accounts in a real browser (headless Chromium driven by Playwright) against `contoso
serve`: an employer invites employees from the console under EMPLOYEE_SIGNUP=invite and one
registers from the emailed link while an uninvited address is refused; and people sign in
through a real OpenID provider on both doors."""

import re

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, emailed, needs_chromium, shot
from tests.support.factories import PASSWORD
from tests.support.identity_provider import identity_provider, needs_node
from tests.support.servers import contoso_env, free_port, start_server, stop_server, wait_ready

pytestmark = needs_chromium

INVITATION_LINK = re.compile(r"https?://\S+?(/\?invitation=\S+)")


@pytest.fixture
def invite_only(tmp_path, database_url, app):
    env = contoso_env(tmp_path, database_url, EMPLOYEE_SIGNUP="invite")
    process, url = start_server(env)
    try:
        wait_ready(url, process)
        yield url
    finally:
        stop_server(process)


async def _console_login(page: Page, base: str, email: str) -> None:
    await page.goto(base + "/admin/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(base + "/admin/")


async def test_an_employer_invites_two_employees_and_one_registers(invite_only, tmp_path):
    base = invite_only
    async with httpx.AsyncClient(base_url=base) as api:
        boss = await api.post(
            "/api/auth/register",
            json={"email": "boss@example.com", "password": PASSWORD, "username": "Boss"},
        )
        assert boss.status_code == 403, boss.text  # employees need an invitation here
        boss = await api.post(
            "/api/auth/register",
            json={
                "email": "boss@example.com",
                "password": PASSWORD,
                "username": "Boss",
                "role": "employer",
            },
        )
        assert boss.status_code == 201, boss.text

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        employer = await (
            await browser.new_context(viewport={"width": 1366, "height": 768})
        ).new_page()
        await _console_login(employer, base, "boss@example.com")
        await employer.get_by_role("link", name="Invitations").click()
        await employer.get_by_role("link", name="Invite people").click()
        await employer.get_by_label("Email addresses").fill("mei@example.com\nraj@example.com")
        await employer.get_by_label("employees (they file expenses)").check()
        await shot(employer, "16-console-invite")
        await employer.get_by_role("button", name="Send invitations").click()
        await expect(
            employer.get_by_role("heading", name="Invited 2 of 2 addresses")
        ).to_be_visible()

        # Mei follows her emailed link on her phone: the code is filled in, no role to choose.
        mail = await emailed(tmp_path / "data" / "outbox", "mei@example.com", "invitation=")
        link = INVITATION_LINK.search(mail)
        assert link, mail
        mei = await (await browser.new_context(viewport={"width": 390, "height": 844})).new_page()
        await mei.goto(base + link[1])
        await expect(mei.locator("#invited")).to_be_visible()
        await mei.get_by_label("Email").fill("mei@example.com")
        await mei.get_by_label("Password").fill(PASSWORD)
        await mei.get_by_role("button", name="Login / Register").click()
        await expect(mei.get_by_role("heading", name="Create your account")).to_be_visible()
        await mei.get_by_label("Your name").fill("Mei")
        await mei.get_by_label("Password again").fill(PASSWORD)
        await shot(mei, "17-employee-invited-register")
        await mei.get_by_role("button", name="Create account").click()
        await expect(mei).to_have_url(base + "/tickets")

        # Somebody nobody invited is refused, and told what to do.
        stranger = await (
            await browser.new_context(viewport={"width": 390, "height": 844})
        ).new_page()
        await stranger.goto(base + "/")
        await stranger.get_by_label("Email").fill("stranger@example.com")
        await stranger.get_by_label("Password").fill(PASSWORD)
        await stranger.get_by_role("button", name="Login / Register").click()
        await stranger.get_by_label("Your name").fill("Stranger")
        await stranger.get_by_label("an employee", exact=False).check()
        await stranger.get_by_label("Password again").fill(PASSWORD)
        await stranger.get_by_role("button", name="Create account").click()
        await expect(stranger.get_by_text("Registering needs an invitation")).to_be_visible()

        # The console's list: Mei's invitation used, Raj's still open.
        await employer.get_by_role("link", name="Back to invitations").click()
        await expect(employer.locator("tbody tr", has_text="mei@example.com")).to_contain_text(
            "Used"
        )
        await expect(employer.locator("tbody tr", has_text="raj@example.com")).to_contain_text(
            "Pending"
        )
        await shot(employer, "18-console-invitations")
        await browser.close()


@pytest.fixture
def with_sso(tmp_path, database_url, app):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    accounts = {
        "lin@example.com": {"email": "lin@example.com", "email_verified": True, "name": "Lin"},
        "cfo@example.com": {
            "email": "cfo@example.com",
            "email_verified": True,
            "name": "The CFO",
            "groups": ["finance"],
        },
    }
    with identity_provider(tmp_path / "provider.log", [f"{base}/sso/callback"], accounts) as idp:
        settings = idp.settings(base)
        env = contoso_env(
            tmp_path,
            database_url,
            PUBLIC_URL=base,
            OIDC_ISSUER=idp.issuer,
            OIDC_CLIENT_ID=settings["oidc_client_id"],
            OIDC_CLIENT_SECRET=settings["oidc_client_secret"].get_secret_value(),
            OIDC_BUTTON_LABEL=settings["oidc_button_label"],
            OIDC_EMPLOYER_GROUP="finance",
        )
        process, url = start_server(env, port)
        try:
            wait_ready(url, process)
            yield url
        finally:
            stop_server(process)


async def _at_the_provider(page: Page, account: str) -> None:
    await expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    await page.get_by_label("Account").fill(account)
    await page.get_by_role("button", name="Sign in").click()


@needs_node
async def test_people_sign_in_through_the_identity_provider_on_both_doors(with_sso):
    base = with_sso
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        # An employee, on the pages: a new account, straight to their tickets.
        lin = await (await browser.new_context(viewport={"width": 390, "height": 844})).new_page()
        await lin.goto(base + "/")
        await shot(lin, "19-employee-login-with-sso")
        await lin.get_by_role("button", name="Sign in with Test ID").click()
        await _at_the_provider(lin, "lin@example.com")
        await expect(lin).to_have_url(base + "/tickets")
        await expect(lin.get_by_role("button", name="File ticket")).to_be_visible()
        await expect(lin.locator("header")).to_contain_text("lin@example.com")

        # Someone in the provider's finance group, at the console: an employer, in.
        cfo = await (await browser.new_context(viewport={"width": 1366, "height": 768})).new_page()
        await cfo.goto(base + "/admin/")
        await shot(cfo, "20-console-login-with-sso")
        await cfo.get_by_role("button", name="Sign in with Test ID").click()
        await _at_the_provider(cfo, "cfo@example.com")
        await expect(cfo).to_have_url(base + "/admin/")
        await expect(cfo.get_by_text("cfo@example.com")).to_be_visible()

        # The employee at the console: refused, and told why.
        await lin.goto(base + "/admin/login")
        await lin.get_by_role("button", name="Sign in with Test ID").click()
        await expect(lin.get_by_text("This console is for employers")).to_be_visible()
        await browser.close()
