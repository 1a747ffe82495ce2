"""The console's exchange rates as an employer keeps them: recorded on a form, listed
latest first, found by currency, and never changed or deleted; every refusal said on
the form."""

import re
from typing import Any

from httpx import AsyncClient

from tests.support.factories import Account
from tests.support.forms import csrf_from, submit_form


async def record_rate(
    client: AsyncClient, employer: Account, currency: str, rate: str, valid_from: str
) -> dict[str, Any]:
    response = await client.post(
        "/api/exchange-rates",
        json={"currency": currency, "rate": rate, "valid_from": valid_from},
        headers=employer.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def recorded(client: AsyncClient, employer: Account) -> list[tuple[str, str, str]]:
    """Every rate as the API lists it: (currency, rate, valid from), latest first."""
    response = await client.get("/api/exchange-rates", headers=employer.headers)
    assert response.status_code == 200, response.text
    return [(r["currency"], r["rate"], r["valid_from"]) for r in response.json()["items"]]


def listed_rates(page: str) -> list[tuple[str, str, str]]:
    """The list's rows as (currency, rate, valid from), in its order."""
    rows = re.findall(
        r'<span class="currency">(\w{3})</span>.*?<span class="rate">([^<]+)</span>.*?'
        r"(\d{4}-\d\d-\d\d)",
        page,
        re.S,
    )
    return [(currency, rate, day) for currency, rate, day in rows]


def flash(page: str) -> str:
    found = re.search(r'id="action-result">(.*?)</div>', page, re.S)
    assert found, "no message shown"
    return found.group(1)


async def test_an_employer_records_a_rate_and_finds_it_listed_latest_first(
    browser, factory, client
):
    boss = await factory.employer(username="Rate Keeper")
    await record_rate(client, boss, "EUR", "1.1", "2026-11-01")
    await record_rate(client, boss, "JPY", "0.0064", "2026-11-15")
    await browser.login_as(boss)

    form = await browser.client.get("/admin/exchange-rates/new")
    created = await submit_form(
        browser.client,
        "/admin/exchange-rates/new",
        {"currency": "eur", "rate": "1.1512", "valid_from": "2026-11-20"},
    )
    page = (await browser.client.get(created.headers["location"])).text

    assert form.status_code == 200
    assert '<option value="EUR">Euro</option>' in form.text
    assert 'value="USD"' not in form.text  # the company's own: always 1
    assert "cannot be changed or deleted once recorded" in form.text
    assert created.status_code == 303
    assert flash(page) == "Recorded 1 EUR = $1.1512 from 2026-11-20."
    assert listed_rates(page) == [
        ("EUR", "1 EUR = $1.1512", "2026-11-20"),
        ("JPY", "1 JPY = $0.0064", "2026-11-15"),
        ("EUR", "1 EUR = $1.10", "2026-11-01"),  # at least the cents of a dollar
    ]
    assert '<small class="text-muted">Japanese Yen</small>' in page
    assert "Rate Keeper" in page
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", page)  # recorded at, in TIMEZONE
    # Kept as recorded: the page says so, and offers no way to change one.
    assert "never changed or deleted, since tickets were converted with them" in page
    assert "fa-trash" not in page and "/edit" not in page
    assert (await recorded(client, boss))[0] == ("EUR", "1.1512", "2026-11-20")


async def test_the_same_rate_again_changes_nothing_and_says_so(browser, factory, client):
    boss = await factory.employer()
    await record_rate(client, boss, "EUR", "1.1512", "2026-11-20")
    await browser.login_as(boss)

    again = await submit_form(
        browser.client,
        "/admin/exchange-rates/new",
        {"currency": "EUR", "rate": "1.15120", "valid_from": "2026-11-20"},
    )
    page = (await browser.client.get(again.headers["location"])).text

    assert again.status_code == 303
    assert flash(page) == "1 EUR = $1.1512 from 2026-11-20 was already recorded; nothing changed."
    assert await recorded(client, boss) == [("EUR", "1.1512", "2026-11-20")]


async def test_another_rate_for_the_same_day_is_a_409_on_the_form_as_typed(
    browser, factory, client
):
    boss = await factory.employer()
    await record_rate(client, boss, "EUR", "1.1512", "2026-11-20")
    await browser.login_as(boss)

    refused = await submit_form(
        browser.client,
        "/admin/exchange-rates/new",
        {"currency": "EUR", "rate": "1.2", "valid_from": "2026-11-20"},
    )

    assert refused.status_code == 409
    assert re.search(
        r'id="form-error">Rates are kept as recorded \(tickets were converted with them\), and '
        r"these differ: EUR from 2026-11-20: 1.1512 is recorded, not 1.2\..*record one from "
        r"the next day\.",
        refused.text,
    )
    assert 'value="EUR"' in refused.text and 'value="1.2"' in refused.text
    assert 'value="2026-11-20"' in refused.text
    assert await recorded(client, boss) == [("EUR", "1.1512", "2026-11-20")]


async def test_each_bad_field_is_said_beside_it(browser, factory, client):
    boss = await factory.employer()
    await browser.login_as(boss)

    malformed = await submit_form(
        browser.client,
        "/admin/exchange-rates/new",
        {"currency": "XYZ", "rate": "lots", "valid_from": "2999-01-01"},
    )
    # Well formed, but the company's own currency: the service's 422, on its field.
    own = await submit_form(
        browser.client,
        "/admin/exchange-rates/new",
        {"currency": "USD", "rate": "1", "valid_from": "2026-11-20"},
    )

    assert malformed.status_code == 400
    assert re.search(r'id="currency-error">&#39;XYZ&#39; is not a currency in use', malformed.text)
    assert 'id="rate-error">The rate must be a positive number' in malformed.text
    assert 'id="valid_from-error">The first day of the rate cannot be in the future' in (
        malformed.text
    )
    assert 'value="XYZ"' in malformed.text and 'value="lots"' in malformed.text
    assert own.status_code == 422
    assert 'id="currency-error">USD is the company&#39;s currency: its rate is always 1.' in (
        own.text
    )
    assert 'class="form-control is-invalid"' in own.text
    assert await recorded(client, boss) == []


async def test_rates_are_found_by_currency_code_or_name_and_filtered_by_currency(
    browser, factory, client
):
    boss = await factory.employer()
    await record_rate(client, boss, "EUR", "1.1512", "2026-11-20")
    await record_rate(client, boss, "EUR", "1.1", "2026-11-01")
    await record_rate(client, boss, "JPY", "0.0064", "2026-11-15")
    await browser.login_as(boss)

    by_name = (await browser.client.get("/admin/exchange-rates/list?search=yen")).text
    by_code = (await browser.client.get("/admin/exchange-rates/list?search=eur")).text
    filtered = (await browser.client.get("/admin/exchange-rates/list?currency=JPY")).text
    unknown = await browser.client.get("/admin/exchange-rates/list?currency=XX%00")
    by_day = (
        await browser.client.get("/admin/exchange-rates/list?sortBy=valid_from&sort=asc")
    ).text

    assert [row[0] for row in listed_rates(by_name)] == ["JPY"]
    assert [row[0] for row in listed_rates(by_code)] == ["EUR", "EUR"]
    assert [row[0] for row in listed_rates(filtered)] == ["JPY"]
    # The filter offers the currencies that have rates, by code with their names.
    assert "EUR · Euro" in filtered and "JPY · Japanese Yen" in filtered
    assert unknown.status_code == 400
    assert [row[2] for row in listed_rates(by_day)] == ["2026-11-01", "2026-11-15", "2026-11-20"]


async def test_recording_a_rate_needs_the_forms_token(browser, factory, client):
    boss = await factory.employer()
    await browser.login_as(boss)
    page = await browser.client.get("/admin/exchange-rates/new")

    forged = await browser.client.post(
        "/admin/exchange-rates/new",
        data={"currency": "EUR", "rate": "1.1512", "valid_from": "2026-11-20"},
    )
    deleted = await browser.client.delete(
        "/admin/exchange-rates/delete",
        params={"pks": "1"},
        headers={"X-CSRF-Token": csrf_from(page)},
    )

    assert forged.status_code == 403
    assert deleted.status_code == 403
    assert await recorded(client, boss) == []
