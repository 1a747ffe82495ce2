"""The console's lists with odd query strings: searched text is bound, never SQL;
text PostgreSQL cannot hold and unknown filter values are a 400 that says why."""

import pytest

from contoso.tickets.workflow import STATUSES


@pytest.mark.parametrize("term", [":foo", "x:foo", "'; SELECT 1 --", "%", "_", "\\", ":1"])
async def test_searching_tickets_for_text_that_looks_like_sql_finds_it(
    browser, factory, client, term
):
    employer, employee = await factory.employer(), await factory.employee()
    await factory.ticket(employee, description=f"Taxi {term} receipt")
    await factory.ticket(employee, description="Hotel")
    await browser.login_as(employer)

    response = await client.get("/admin/tickets/list", params={"search": term})

    assert response.status_code == 200
    assert f"Taxi {term} receipt" in response.text.replace("&#39;", "'").replace("&amp;", "&")
    assert "Hotel" not in response.text


@pytest.mark.parametrize("view", ["tickets", "employees", "audit-log"])
@pytest.mark.parametrize("term", ["\x00", "Taxi\x00", "\x07"])
async def test_a_search_with_control_characters_is_a_400_that_says_so(
    browser, factory, client, view, term
):
    await browser.login_as(await factory.employer())

    response = await client.get(f"/admin/{view}/list", params={"search": term})

    assert response.status_code == 400
    assert "Search text cannot contain control characters" in response.text


_STATUSES = [status.value for status in STATUSES]


@pytest.mark.parametrize(
    ("view", "parameter", "choices"),
    [
        # Every status, in the declared order.
        ("tickets", "status", ", ".join(_STATUSES[:-1]) + f" or {_STATUSES[-1]}"),
        ("audit-log", "kind", "ticket_approved, ticket_denied"),
    ],
)
@pytest.mark.parametrize("value", ["bogus", "\x00", "PENDING"])
async def test_an_unknown_filter_value_is_a_400_naming_the_choices(
    browser, factory, client, view, parameter, choices, value
):
    await browser.login_as(await factory.employer())

    response = await client.get(f"/admin/{view}/list", params={parameter: value})

    assert response.status_code == 400
    assert choices in response.text


async def test_a_known_filter_value_still_filters(browser, factory, client):
    # Guards the test above: the listed choices work.
    employer, employee = await factory.employer(), await factory.employee()
    await factory.ticket(employee, description="Still pending")
    await browser.login_as(employer)

    pending = await client.get("/admin/tickets/list", params={"status": "pending"})
    approved = await client.get("/admin/tickets/list", params={"status": "approved"})

    assert pending.status_code == approved.status_code == 200
    assert "Still pending" in pending.text
    assert "Still pending" not in approved.text
