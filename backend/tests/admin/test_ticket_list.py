"""The console's ticket list as a reviewer uses it: what it shows, and where an action
brings them back to."""

import re

import pytest
from httpx import ASGITransport, AsyncClient

from contoso.admin.ticket_columns import SHORT_DESCRIPTION
from contoso.main import create_app
from tests.support.console import ConsoleBrowser
from tests.support.forms import csrf_from

LONG = "Team dinner with the Lisbon client after the contract review, " + "x" * 200


def _headers(page: str) -> list[str]:
    head = page[page.index("<thead>") : page.index("</thead>")]
    return [
        re.sub(r"<[^>]+>|\s+", " ", cell).strip()
        for cell in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)
    ]


def back_field(page) -> str:
    """The list the confirmation page will go back to, as it carries it in its form."""
    return re.search(r'name="back" value="([^"]*)"', page.text)[1].replace("&amp;", "&")


async def test_the_list_shows_what_a_reviewer_decides_by(browser, factory):
    alice, boss = await factory.employee(username="Alice Wong"), await factory.employer()
    await factory.ticket(
        alice,
        amount="1249.99",
        description=LONG,
        links=["https://a.example.com/1", "https://b.example.com/2"],
    )
    await browser.login_as(boss)

    page = (await browser.client.get("/admin/tickets/list")).text

    assert [h for h in _headers(page) if h] == [
        "#",
        "Employee",
        "Spent on",
        "Amount",
        "Status",
        "Description",
        "Links",
    ]
    assert '<span class="amount">$1,249.99</span>' in page
    # The start of the description, the whole of it in the tooltip.
    assert 'title="Team dinner with the Lisbon client' in page
    assert f"{LONG[:SHORT_DESCRIPTION].rstrip()}…</span>" in page
    assert "x" * 200 not in page.replace(f'title="{LONG}"', "")
    assert 'aria-label="2 links"' in page
    assert "badge bg-yellow-lt status" in page
    # Approve comes before Deny in the Actions menu.
    assert page.index("action-custom-approve") < page.index("action-custom-deny")


async def test_an_action_brings_the_employer_back_to_the_same_list(browser, factory):
    alice, boss = await factory.employee(), await factory.employer()
    tickets = [await factory.ticket(alice, amount=f"{n}.00") for n in range(1, 4)]
    await browser.login_as(boss)
    listed = (
        "/admin/tickets/list?search=alice&status=pending&sortBy=company_amount&sort=desc&page=1"
    )
    ids = [tickets[0]["id"]]

    page = await browser.client.get(
        f"/admin/tickets/action/deny?pks={ids[0]}", headers={"Referer": f"http://test{listed}"}
    )
    done = await browser.client.post(
        "/admin/tickets/action/deny",
        data={"pks": str(ids[0]), "back": back_field(page), "csrf_token": csrf_from(page)},
    )
    again = await browser.client.post(
        "/admin/tickets/action/deny",
        data={"pks": str(ids[0]), "back": listed, "csrf_token": csrf_from(page)},
    )
    result = await browser.client.get(again.headers["location"])

    assert 'class="btn btn-danger">Deny</button>' in page.text
    assert f'href="{listed.replace("&", "&amp;")}">Cancel</a>' in page.text
    assert done.headers["location"] == listed
    # Nothing decided the second time: a warning that stays until dismissed.
    assert "Denied 0 tickets; 1 skipped: 1 already decided." in result.text
    assert "text-bg-warning" in result.text
    assert 'data-bs-autohide="false"' in result.text


async def test_a_forged_back_address_goes_to_the_plain_list(browser, factory):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    await browser.login_as(boss)

    page = await browser.client.get(
        f"/admin/tickets/action/approve?pks={ticket['id']}",
        headers={"Referer": "https://evil.example.com/admin/tickets/list?x=1"},
    )
    done = await browser.client.post(
        "/admin/tickets/action/approve",
        data={
            "pks": str(ticket["id"]),
            "back": "//evil.example.com/",
            "csrf_token": csrf_from(page),
        },
    )

    assert 'name="back" value="/admin/tickets/list"' in page.text
    assert done.headers["location"] == "/admin/tickets/list"


async def test_the_detail_page_offers_a_decision_only_while_pending(browser, factory, client):
    alice, boss = await factory.employee(), await factory.employer()
    pending, decided = await factory.ticket(alice), await factory.ticket(alice)
    await client.post(
        f"/api/tickets/{decided['id']}/deny",
        json={"note": "Please attach the receipt.\nThe itemised one."},
        headers=boss.headers,
    )
    await browser.login_as(boss)

    open_page = (await browser.client.get(f"/admin/tickets/details/{pending['id']}")).text
    closed_page = (await browser.client.get(f"/admin/tickets/details/{decided['id']}")).text

    assert "/action/approve?pks=" in open_page and "/action/deny?pks=" in open_page
    assert "/action/approve" not in closed_page and "/action/deny" not in closed_page
    assert (
        '<span class="keep-lines" dir="auto">Please attach the receipt.\nThe itemised one.</span>'
        in closed_page
    )


@pytest.fixture
async def paris(settings, app):
    application = create_app(settings.model_copy(update={"timezone": "Europe/Paris"}))
    transport = ASGITransport(app=application)
    async with AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
    await application.state.database.dispose()


async def test_times_are_shown_in_the_configured_zone_and_say_which(paris, factory, app):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    browser = ConsoleBrowser(paris)
    await browser.login_as(boss)

    page = (await paris.get(f"/admin/tickets/details/{ticket['id']}")).text

    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d Europe/Paris", page)
    assert " UTC" not in page


async def test_one_employees_tickets_list_and_export_exactly(browser, factory):
    al, hal, boss = (
        await factory.employee(email="al@example.com"),
        await factory.employee(email="hal@example.com"),
        await factory.employer(),
    )
    await factory.ticket(al, description="Al's taxi")
    await factory.ticket(hal, description="Hal's hotel")
    await browser.login_as(boss)

    listed = await browser.client.get(f"/admin/tickets/list?employee={al.id}")
    exported = await browser.client.get(f"/admin/tickets/export/csv?employee={al.id}")
    bogus = await browser.client.get("/admin/tickets/list?employee=al")

    assert "Al&#39;s taxi" in listed.text and "Hal&#39;s hotel" not in listed.text
    assert "Al's taxi" in exported.text and "Hal's hotel" not in exported.text
    assert bogus.status_code == 400
    assert "no such employee" in bogus.text
