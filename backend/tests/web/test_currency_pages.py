"""Currencies on the employee pages: filing and editing in any currency in use, amounts
shown as spent with the company amount and its rate beside them, refusals next to the
field they concern, and the whole story to a payment batch whose total is right to the
cent."""

import csv
import io
import re
from decimal import Decimal

import pytest

from tests.support.forms import submit_form
from tests.web.pages import log_in, text_of, ticket_item, words

# The purchases are dated on the day the rates start, so they are converted at exactly
# these rates (a rate recorded for a later day never applies to them).
DAY = "2026-10-13"
RATES = {"JPY": "0.006336", "EUR": "1.1512"}


async def record_rates(client, employer, day: str = DAY, **rates: str) -> None:
    """Record each currency's rate from `day` on, as an employer does with the API."""
    for currency, rate in (rates or RATES).items():
        body = {"currency": currency, "rate": rate, "valid_from": day}
        response = await client.post("/api/exchange-rates", json=body, headers=employer.headers)
        # 200: recorded the same already (the table outlives a test).
        assert response.status_code in (200, 201), response.text


def ticket_form(**fields: str) -> dict[str, str]:
    """The filing form as a browser sends it: the currency select starts on USD."""
    return {
        "spent_on": DAY,
        "amount": "12.50",
        "currency": "USD",
        "description": "Taxi",
        "links": "",
    } | fields


async def file_from_page(client, **fields: str):
    response = await submit_form(client, "/tickets", ticket_form(**fields))
    assert response.status_code == 303, response.text
    return response


async def my_tickets(client, account) -> list[dict]:
    return (await client.get("/api/tickets", headers=account.headers)).json()["items"]


def options_of(group: str, page: str) -> list[str]:
    """The option values of the <optgroup> labelled `group` of the currency select."""
    select = re.search(r'<select id="field-currency".*?</select>', page, re.S)
    assert select, "no currency select on the page"
    found = re.search(rf'<optgroup label="{re.escape(group)}">(.*?)</optgroup>', select[0], re.S)
    assert found, f"no group {group!r}"
    return re.findall(r'<option value="([A-Z]{3})"', found.group(1))


async def test_yen_and_euros_filed_from_the_page_are_paid_in_dollars_to_the_cent(client, factory):
    boss, dana = await factory.employer(), await factory.employee(username="Dana")
    await record_rates(client, boss)
    await log_in(client, dana)

    await file_from_page(client, currency="JPY", amount="1500", description="Taxi in Tokyo")
    filed = await client.get("/tickets")
    await file_from_page(client, currency="EUR", amount="189.90", description="Hotel in Lyon")
    taxi, hotel = sorted(await my_tickets(client, dana), key=lambda ticket: ticket["id"])
    page = (await client.get("/tickets")).text

    # As spent, with what it is reimbursed in the company's currency and at what rate.
    assert f"Ticket #{taxi['id']} filed: ¥1,500 (reimbursed as $9.50) for Taxi in Tokyo" in (
        words(filed.text)
    )
    assert (
        f"¥1,500 · {DAY} · #{taxi['id']} · General "
        f"Reimbursed as $9.50 at 1 JPY = $0.006336, the rate of {DAY} Taxi in Tokyo"
    ) in words(ticket_item(page, taxi["id"]))
    assert (
        f"€189.90 · {DAY} · #{hotel['id']} · General "
        f"Reimbursed as $218.61 at 1 EUR = $1.1512, the rate of {DAY} Hotel in Lyon"
    ) in words(ticket_item(page, hotel["id"]))
    # The employer sees both in dollars, with the originals beside them.
    seen = {
        ticket["id"]: ticket
        for ticket in (await client.get("/api/tickets", headers=boss.headers)).json()["items"]
    }
    assert [
        (seen[t["id"]]["amount"], seen[t["id"]]["currency"], seen[t["id"]]["company_amount"])
        for t in (taxi, hotel)
    ] == [("1500", "JPY", "9.50"), ("189.90", "EUR", "218.61")]

    decided = await client.post(
        "/api/tickets/decisions",
        json={"ticket_ids": [taxi["id"], hotel["id"]], "decision": "approve"},
        headers=boss.headers,
    )
    owed = text_of((await client.get("/tickets")).text, "owed")
    paid = await client.post(
        "/api/payments",
        json={"ticket_ids": [taxi["id"], hotel["id"]], "reference": "SEPA-FX-1"},
        headers=boss.headers,
    )
    exported = await client.get(f"/api/payments/{paid.json()['id']}/export", headers=boss.headers)
    after = (await client.get("/tickets")).text

    assert decided.json()["decided"] == [taxi["id"], hotel["id"]]
    assert owed == "Owed to you: $228.11 (2 tickets approved, not yet paid)"
    assert (paid.json()["total"], paid.json()["currency"]) == ("228.11", "USD")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows == [
        ["Employee", "Email", "Amount", "Currency", "Tickets", "Reference"],
        ["Dana", dana.email, "228.11", "USD", f"{taxi['id']} {hotel['id']}", "SEPA-FX-1"],
    ]
    assert text_of(after, "paid-this-year") == "Paid this year: $228.11 (2 tickets)"
    assert "Paid as $9.50 at 1 JPY = $0.006336" in words(ticket_item(after, taxi["id"]))


async def test_the_currency_select_starts_on_the_companys_then_those_with_a_rate(client, factory):
    boss, dana = await factory.employer(), await factory.employee()
    await record_rates(client, boss)
    await log_in(client, dana)

    page = (await client.get("/tickets")).text

    assert options_of("Company currency", page) == ["USD"]
    assert '<option value="USD" selected>USD — US Dollar</option>' in page
    rated = options_of("With an exchange rate", page)
    assert {"EUR", "JPY"} <= set(rated) and rated == sorted(rated)
    others = options_of("Other currencies (an employer adds the rate first)", page)
    assert others == sorted(others) and not set(others) & {"USD", "EUR", "JPY"}
    # Every currency in use is offered, each once: CHF, KWD and CNY among them.
    assert {"CHF", "KWD", "CNY"} <= set(rated + others)
    assert len(set(rated + others)) == len(rated + others) > 100
    assert '<option value="JPY">JPY — Japanese Yen</option>' in page
    # The amount takes any currency's decimals: text with a decimal keypad, no step.
    amount = re.search(r'<input id="field-amount"[^>]*>', page, re.S)
    assert amount and 'inputmode="decimal"' in amount[0]
    assert "step=" not in amount[0] and 'type="number"' not in amount[0]


async def test_a_currency_without_a_rate_is_refused_next_to_the_currency(client, factory):
    dana = await factory.employee()
    await log_in(client, dana)

    # No rate is ever recorded this early (rates are kept across tests).
    response = await submit_form(
        client,
        "/tickets",
        ticket_form(spent_on="2000-01-03", currency="ISK", amount="4500", description="Bus"),
    )

    assert response.status_code == 422
    error = re.search(r'id="error-currency">(.*?)</div>', response.text, re.S)
    assert error, "no error next to the currency"
    assert words(error.group(1)).startswith(
        "There is no exchange rate from ISK to USD valid on 2000-01-03"
    )
    assert "An employer can add one" in words(error.group(1))
    assert '<option value="ISK" selected>' in response.text
    assert 'value="4500"' in response.text and ">Bus</textarea>" in response.text
    assert await my_tickets(client, dana) == []


@pytest.mark.parametrize(
    ("currency", "amount", "field", "message"),
    [
        ("JPY", "15.5", "amount", "JPY has no minor units: amounts in JPY are whole numbers"),
        ("KWD", "1.2345", "amount", "at most 3 decimal places"),
        ("USD", "12.345", "amount", "Amounts in USD have at most 2 decimal places"),
        ("XYZ", "10", "currency", "'XYZ' is not a currency in use"),
        ("DEM", "10", "currency", "'DEM' is not a currency in use"),
    ],
)
async def test_amounts_and_currencies_are_refused_next_to_their_field(
    client, factory, currency, amount, field, message
):
    dana = await factory.employee()
    await log_in(client, dana)

    response = await submit_form(client, "/tickets", ticket_form(currency=currency, amount=amount))

    assert response.status_code == 400
    error = re.search(rf'id="error-{field}">(.*?)</div>', response.text, re.S)
    assert error, f"no error next to the {field}"
    assert message in words(error.group(1))
    assert f'value="{amount}"' in response.text
    assert await my_tickets(client, dana) == []


async def test_three_decimals_are_filed_in_dinars_and_none_in_yen(client, factory):
    boss, dana = await factory.employer(), await factory.employee()
    await record_rates(client, boss, KWD="3.2573", JPY=RATES["JPY"])
    await log_in(client, dana)

    await file_from_page(client, currency="kwd", amount="1.234")
    await file_from_page(client, currency="JPY", amount="1500.00")

    tickets = sorted(await my_tickets(client, dana), key=lambda ticket: ticket["id"])
    assert [(t["amount"], t["currency"], t["company_amount"]) for t in tickets] == [
        ("1.234", "KWD", "4.02"),
        ("1500", "JPY", "9.50"),
    ]
    edit = await client.get(f"/tickets/{tickets[1]['id']}/edit")
    assert 'value="1500"' in edit.text
    assert '<option value="JPY" selected>' in edit.text


async def test_editing_the_currency_converts_the_ticket_again(client, factory):
    boss, dana = await factory.employer(), await factory.employee()
    await record_rates(client, boss)
    await log_in(client, dana)
    await file_from_page(client, currency="USD", amount="12.50", description="Lunch")
    [ticket] = await my_tickets(client, dana)
    url = f"/tickets/{ticket['id']}/edit"

    shown = await client.get(url)
    response = await submit_form(
        client, url, ticket_form(currency="EUR", amount="12.50", description="Lunch")
    )
    listed = await client.get("/tickets")
    edited = (await client.get(f"/api/tickets/{ticket['id']}", headers=dana.headers)).json()
    again = await client.get(url)

    assert '<option value="USD" selected>' in shown.text and 'value="12.50"' in shown.text
    assert text_of(shown.text, "ticket-amount") == f"$12.50 · {DAY}"
    assert response.status_code == 303
    assert f"Ticket #{ticket['id']} saved: €12.50 (reimbursed as $14.39)." in words(listed.text)
    assert (edited["currency"], edited["company_amount"], edited["exchange_rate"]) == (
        "EUR",
        "14.39",
        "1.1512",
    )
    assert edited["rate_date"] == DAY
    assert (
        f"€12.50 · {DAY} · #{ticket['id']} · General "
        f"Reimbursed as $14.39 at 1 EUR = $1.1512, the rate of {DAY} Lunch"
    ) in words(ticket_item(listed.text, ticket["id"]))
    assert '<option value="EUR" selected>' in again.text
    assert text_of(again.text, "ticket-amount") == (
        f"€12.50 · {DAY} Reimbursed as $14.39 at 1 EUR = $1.1512, the rate of {DAY}"
    )


async def test_an_edit_to_a_currency_without_a_rate_changes_nothing(client, factory):
    dana = await factory.employee()
    await log_in(client, dana)
    await file_from_page(client, spent_on="2000-01-03", amount="7.00", description="Tea")
    [ticket] = await my_tickets(client, dana)
    url = f"/tickets/{ticket['id']}/edit"

    response = await submit_form(
        client,
        url,
        ticket_form(spent_on="2000-01-03", currency="ISK", amount="700", description="Tea"),
    )
    unchanged = (await client.get(f"/api/tickets/{ticket['id']}", headers=dana.headers)).json()

    assert response.status_code == 422
    assert 'id="error-currency"' in response.text
    assert "There is no exchange rate from ISK to USD" in response.text
    assert '<option value="ISK" selected>' in response.text and 'value="700"' in response.text
    assert (unchanged["amount"], unchanged["currency"]) == ("7.00", "USD")


async def test_a_decimal_amount_in_yen_is_refused_on_the_edit_page_too(client, factory):
    boss, dana = await factory.employer(), await factory.employee()
    await record_rates(client, boss)
    await log_in(client, dana)
    await file_from_page(client, currency="JPY", amount="1500")
    [ticket] = await my_tickets(client, dana)

    response = await submit_form(
        client, f"/tickets/{ticket['id']}/edit", ticket_form(currency="JPY", amount="15.5")
    )

    assert response.status_code == 400
    assert 'id="error-amount"' in response.text and "JPY has no minor units" in response.text
    after = (await client.get(f"/api/tickets/{ticket['id']}", headers=dana.headers)).json()
    assert Decimal(after["amount"]) == 1500
