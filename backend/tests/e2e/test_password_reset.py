"""A forgotten password in a real browser (headless Chromium driven by Playwright) against
`contoso serve` on real PostgreSQL: the employee asks for a link on the login page, follows
the emailed one, sets a new password and is logged in, and the token from before is refused.
"""

import re

import httpx
from playwright.async_api import async_playwright, expect

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, emailed, needs_chromium, shot

pytestmark = needs_chromium

OLD_PASSWORD = "the passphrase I forgot"
NEW_PASSWORD = "a passphrase I will remember"
RESET_LINK = re.compile(r"https?://\S+?(/reset-password\?token=\S+)")


async def test_an_employee_resets_a_forgotten_password_from_the_emailed_link(server, tmp_path):
    base = server
    async with httpx.AsyncClient(base_url=base) as api:
        registered = await api.post(
            "/api/auth/register",
            json={
                "email": "ola@example.com",
                "password": OLD_PASSWORD,
                "username": "Ola",
                "role": "employee",
            },
        )
        assert registered.status_code == 201, registered.text
        old_token = registered.json()["access_token"]

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = await (
                await browser.new_context(viewport={"width": 390, "height": 844})
            ).new_page()

            # "Forgot your password?" on the login page asks for the address.
            await page.goto(base + "/")
            await page.get_by_role("link", name="Forgot your password?").click()
            await expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
            await page.get_by_label("Email").fill("ola@example.com")
            await shot(page, "14-employee-forgot-password")
            await page.get_by_role("button", name="Email me a link").click()
            await expect(page).to_have_url(base + "/")

            # The emailed link opens the form that sets a new password, and logs them in.
            mail = await emailed(tmp_path / "data" / "outbox", "ola@example.com", "reset-password")
            link = RESET_LINK.search(mail)
            assert link, mail
            await page.goto(base + link[1])
            await expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
            await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
            await page.get_by_label("New password again").fill(NEW_PASSWORD)
            await shot(page, "15-employee-reset-password")
            await page.get_by_role("button", name="Set the new password").click()
            await expect(page).to_have_url(base + "/tickets")
            await expect(page.get_by_role("button", name="File ticket")).to_be_visible()

            # The link works once.
            await page.goto(base + link[1])
            await expect(
                page.get_by_role("heading", name="This link no longer works")
            ).to_be_visible()
            await browser.close()

        # The API token from before the reset is refused; the new password logs in.
        refused = await api.get("/api/users/me", headers={"Authorization": f"Bearer {old_token}"})
        old_login = await api.post(
            "/api/auth/login", json={"email": "ola@example.com", "password": OLD_PASSWORD}
        )
        new_login = await api.post(
            "/api/auth/login", json={"email": "ola@example.com", "password": NEW_PASSWORD}
        )

    assert refused.status_code == 401
    assert old_login.status_code == 401
    assert new_login.status_code == 200
