"""The console's employees: their state at a glance, and each one's page."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from httpx import Response
from sqlalchemy import update

from contoso.models import User

STATE_BADGE = re.compile(r'<span class="badge bg-(\w+)-lt state">(\w+)</span>')


def title_of(page: Response) -> str:
    match = re.search(r'<h2 class="page-title"[^>]*>\s*(.*?)\s*</h2>', page.text)
    assert match, "the page has no title"
    return match.group(1)


def action_links(page: Response) -> list[str]:
    """The actions the page offers, by name."""
    return re.findall(r'href="[^"]*/admin/employees/action/(\w+)\?pks=\d+"', page.text)


async def test_the_list_names_each_employees_state_with_a_coloured_badge(browser, factory, client):
    await factory.employee(email="alice@example.com")
    bob = await factory.employee(email="bob@example.com")
    boss = await factory.employer()
    await client.post(f"/api/employees/{bob.id}/suspend", headers=boss.headers)
    await browser.login_as(boss)

    page = await browser.client.get("/admin/employees/list")

    assert sorted(STATE_BADGE.findall(page.text)) == [("green", "Active"), ("red", "Suspended")]
    assert "fa-times" not in page.text.split("<tbody>", 1)[1]  # no red ✕ beside anyone


async def test_an_active_employees_page_is_titled_with_their_name_and_offers_suspend_only(
    browser, factory
):
    alice = await factory.employee(username="Alice Wong", email="alice@example.com")
    boss = await factory.employer()
    await browser.login_as(boss)

    page = await browser.client.get(f"/admin/employees/details/{alice.id}")

    assert page.status_code == 200
    assert title_of(page) == "Alice Wong"
    assert action_links(page) == ["suspend"]
    assert STATE_BADGE.search(page.text).groups() == ("green", "Active")


async def test_a_suspended_employees_page_offers_reactivate_only(browser, factory, client):
    bob = await factory.employee(username="Bob <b>Builder</b>")
    boss = await factory.employer()
    await client.post(f"/api/employees/{bob.id}/suspend", headers=boss.headers)
    await browser.login_as(boss)

    page = await browser.client.get(f"/admin/employees/details/{bob.id}")

    assert title_of(page) == "Bob &lt;b&gt;Builder&lt;/b&gt;"  # a name is text, never markup
    assert action_links(page) == ["reactivate"]
    assert "hidden while they are suspended" in page.text


async def test_the_page_offers_its_action_through_the_confirmation(browser, factory):
    alice = await factory.employee()
    boss = await factory.employer()
    await browser.login_as(boss)
    page = await browser.client.get(f"/admin/employees/details/{alice.id}")
    (link,) = re.findall(r'href="([^"]*/action/suspend\?pks=\d+)"', page.text)

    confirmation = await browser.client.get(link)
    still_listed = await browser.client.get("/admin/employees/list", params={"suspended": "false"})

    assert confirmation.status_code == 200
    assert "Suspend 1 employee?" in confirmation.text
    assert alice.email in still_listed.text  # a GET changes nothing


async def test_an_employees_page_links_to_exactly_their_tickets(browser, factory):
    alice = await factory.employee(email="al@example.com")
    # A search by email would find Hal too: the link lists exactly Al's tickets.
    bob = await factory.employee(email="hal@example.com")
    boss = await factory.employer()
    await factory.ticket(alice, description="Taxi for Alice")
    await factory.ticket(bob, description="Hotel for Bob")
    await browser.login_as(boss)
    page = await browser.client.get(f"/admin/employees/details/{alice.id}")
    link = re.search(r'href="([^"]*)"[^>]*id="their-tickets"', page.text)
    assert link, "no link to their tickets"

    tickets = await browser.client.get(link.group(1).replace("&amp;", "&"))

    assert link.group(1).endswith(f"/admin/tickets/list?employee={alice.id}")
    assert "Taxi for Alice" in tickets.text
    assert "Hotel for Bob" not in tickets.text


async def test_the_list_shows_the_day_each_joined_in_the_apps_time_zone(paris):
    app, browser, factory = paris
    night_owl = await factory.employee(email="owl@example.com")
    boss = await factory.employer()
    # 23:30 in London on the 21st is already the 22nd in Paris.
    async with app.state.database.engine.begin() as connection:
        await connection.execute(
            update(User)
            .where(User.id == night_owl.id)
            .values(created_at=datetime(2026, 11, 21, 23, 30, tzinfo=ZoneInfo("UTC")))
        )
    await browser.login_as(boss)

    page = await browser.client.get("/admin/employees/list", params={"search": "owl@"})
    detail = await browser.client.get(f"/admin/employees/details/{night_owl.id}")

    assert "<td>2026-11-22</td>" in page.text
    assert "2026-11-22 00:30 Europe/Paris" in detail.text  # to the minute on their page


async def test_employee_actions_come_back_to_the_same_list_and_warn_when_nothing_changed(
    browser, factory
):
    alice, boss = await factory.employee(), await factory.employer()
    await browser.login_as(boss)
    listed = "/admin/employees/list?suspended=false&search=alice"

    empty = await browser.client.get(
        "/admin/employees/action/suspend?pks=", headers={"Referer": f"http://test{listed}"}
    )
    first = await browser.confirm("employees", "suspend", [alice.id], back=listed)
    again = await browser.confirm("employees", "suspend", [alice.id], back=listed)
    shown = await browser.client.get(again.headers["location"])

    assert empty.headers["location"] == listed
    assert first.headers["location"] == listed
    assert "Suspended 0 employees; 1 skipped" in shown.text
    assert "text-bg-warning" in shown.text
    assert page_order(await browser.client.get("/admin/employees/list"))


def page_order(page: Response) -> bool:
    """Suspend comes before Reactivate in the Actions menu."""
    return page.text.index("action-custom-suspend") < page.text.index("action-custom-reactivate")
