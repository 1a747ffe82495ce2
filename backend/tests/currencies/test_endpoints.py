"""Exchange rates and tickets in other currencies over the API: employers record rates,
everyone reads them, and a ticket keeps its amount as spent with the company amount it
was converted to when filed, until its amount, currency or date is edited."""

from datetime import date, timedelta

import pytest

from tests.support.totals import assert_totals_match_a_recount

TODAY = date.today()
RATES = "/api/exchange-rates"


async def file(client, owner, **fields):
    body = {"spent_on": "2025-02-01", "description": "Taxi"} | fields
    return await client.post("/api/tickets", json=body, headers=owner.headers)


async def filed(client, owner, **fields):
    response = await file(client, owner, **fields)
    assert response.status_code == 201, response.text
    return response.json()


async def edited(client, owner, ticket, **changes):
    response = await client.patch(
        f"/api/tickets/{ticket['id']}", json=changes, headers=owner.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def fetch(client, account, ticket):
    return (await client.get(f"/api/tickets/{ticket['id']}", headers=account.headers)).json()


async def rates_listed(client, account, **query):
    response = await client.get(RATES, params=query, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


def conversion(ticket):
    """What a ticket says it was converted with."""
    return (
        ticket["amount"],
        ticket["currency"],
        ticket["company_amount"],
        ticket["exchange_rate"],
        ticket["rate_date"],
    )


def message(response):
    return " ".join(str(error["msg"]) for error in response.json()["detail"])


# Recording and reading rates


async def test_an_employer_records_rates_and_everyone_reads_them_latest_first(client, factory):
    boss, alice = await factory.employer(username="Boss"), await factory.employee()

    response = await client.post(
        RATES,
        json={"currency": "eur", "rate": "1.1512", "valid_from": "2025-01-10"},
        headers=boss.headers,
    )
    await factory.rate(boss, "JPY", "0.0064", "2025-01-15")
    await factory.rate(boss, "EUR", "1.2", "2025-01-20")

    assert response.status_code == 201, response.text
    recorded = response.json()
    assert recorded | {"id": 0, "created_at": ""} == {
        "id": 0,
        "currency": "EUR",
        "rate": "1.1512",
        "company_currency": "USD",
        "valid_from": "2025-01-10",
        "created_at": "",
        "created_by": {"id": boss.id, "username": "Boss"},
    }
    everything = await rates_listed(client, alice)
    assert [(r["currency"], r["rate"], r["valid_from"]) for r in everything["items"]] == [
        ("EUR", "1.2", "2025-01-20"),
        ("JPY", "0.0064", "2025-01-15"),
        ("EUR", "1.1512", "2025-01-10"),
    ]
    assert everything["total"] == 3
    assert everything["items"][-1] == recorded
    euros = await rates_listed(client, alice, currency="eur")
    assert [r["valid_from"] for r in euros["items"]] == ["2025-01-20", "2025-01-10"]
    assert euros["total"] == 2
    page = await rates_listed(client, alice, limit=1, offset=1)
    assert ([r["currency"] for r in page["items"]], page["total"]) == (["JPY"], 3)


async def test_the_same_rate_again_is_a_no_op_and_another_rate_that_day_is_409(client, factory):
    boss, other_boss = await factory.employer(), await factory.employer()
    first = await factory.rate(boss, "EUR", "1.1", "2025-01-10")

    again = await client.post(
        RATES,
        json={"currency": "EUR", "rate": "1.10", "valid_from": "2025-01-10"},
        headers=other_boss.headers,
    )
    clash = await client.post(
        RATES,
        json={"currency": "EUR", "rate": "1.2", "valid_from": "2025-01-10"},
        headers=other_boss.headers,
    )

    assert again.status_code == 200, again.text
    assert again.json() == first  # the rate as first recorded, by whom it was
    assert clash.status_code == 409
    assert "EUR from 2025-01-10: 1.1 is recorded, not 1.2" in clash.json()["detail"]
    assert "record one from the next day" in clash.json()["detail"]
    listed = await rates_listed(client, boss)
    assert listed["items"] == [first]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"currency": "USD"}, "USD is the company's currency: its rate is always 1"),
        ({"currency": "usd"}, "USD is the company's currency"),
        ({"currency": "DEM"}, "'DEM' is not a currency in use"),
        ({"currency": "XYZ"}, "'XYZ' is not a currency in use"),
        ({"currency": "EURO"}, "at most 3 characters"),
        ({"rate": "1.1234567890123"}, "at most 12 decimals"),
        ({"rate": "0"}, "greater than 0"),
        ({"rate": "-1.1"}, "a positive number"),
        ({"rate": "1e3"}, "a positive number"),
        ({"rate": "1000000000.5"}, "at most 1000000000"),
        ({"valid_from": (TODAY + timedelta(days=2)).isoformat()}, "cannot be in the future"),
        ({"valid_from": "1999-12-31"}, "on or after 2000-01-01"),
        ({"created_by": 1}, "Extra inputs are not permitted"),
    ],
)
async def test_a_bad_rate_is_422_and_records_nothing(client, factory, change, expected):
    boss = await factory.employer()
    body = {"currency": "EUR", "rate": "1.1512", "valid_from": "2025-01-10"} | change

    response = await client.post(RATES, json=body, headers=boss.headers)

    assert response.status_code == 422, response.text
    assert expected in message(response)
    assert (await rates_listed(client, boss))["total"] == 0


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("0.000059688832", "0.000059688832"),  # twelve decimals: IDR in dollars
        (0.000059688832, "0.000059688832"),  # as a JSON number
        (181.69, "181.69"),
        (1000000000, "1000000000"),  # never "1.0E+9"
        ("10000", "10000"),
    ],
)
async def test_rates_are_kept_exactly_as_sent(client, factory, sent, stored):
    boss = await factory.employer()

    response = await client.post(
        RATES,
        json={"currency": "IDR", "rate": sent, "valid_from": "2025-01-10"},
        headers=boss.headers,
    )

    assert response.status_code == 201, response.text
    assert response.json()["rate"] == stored


async def test_employees_read_rates_but_never_record_them(client, factory):
    alice = await factory.employee()
    body = {"currency": "EUR", "rate": "1.1512", "valid_from": "2025-01-10"}

    refused = await client.post(RATES, json=body, headers=alice.headers)
    anonymous = await client.post(RATES, json=body)
    anonymous_list = await client.get(RATES)

    assert refused.status_code == 403
    assert refused.json()["detail"] == "Only employers can record exchange rates."
    assert (anonymous.status_code, anonymous_list.status_code) == (401, 401)
    assert (await rates_listed(client, alice))["items"] == []


@pytest.mark.parametrize("query", [{"currency": "DEM"}, {"limit": 0}, {"limit": 201}])
async def test_rate_list_parameters_out_of_range_are_422(client, factory, query):
    alice = await factory.employee()
    response = await client.get(RATES, params=query, headers=alice.headers)
    assert response.status_code == 422


# Filing in a currency


@pytest.mark.parametrize(
    ("currency", "sent", "amount", "company_amount"),
    [
        ("JPY", "1500", "1500", "9.60"),
        ("JPY", 1500, "1500", "9.60"),
        ("JPY", "1500.00", "1500", "9.60"),  # trailing zeros are no decimals
        ("JPY", "10000", "10000", "64.00"),  # never "1E+4"
        ("JPY", 150000, "150000", "960.00"),
        ("KWD", "1.234", "1.234", "4.01"),  # 4.0105
        ("KWD", "1.2", "1.200", "3.90"),  # written with KWD's three decimals
        ("usd", "12.5", "12.50", "12.50"),
    ],
)
async def test_an_amount_is_kept_with_its_currencys_decimals(
    client, factory, currency, sent, amount, company_amount
):
    boss, alice = await factory.employer(), await factory.employee()
    await factory.rate(boss, "JPY", "0.0064", "2025-01-01")
    await factory.rate(boss, "KWD", "3.25", "2025-01-01")

    ticket = await filed(client, alice, amount=sent, currency=currency)

    assert (ticket["amount"], ticket["currency"], ticket["company_amount"]) == (
        amount,
        currency.upper(),
        company_amount,
    )
    assert await fetch(client, alice, ticket) == ticket


@pytest.mark.parametrize(
    ("currency", "sent", "expected"),
    [
        ("JPY", "15.5", "JPY has no minor units: amounts in JPY are whole numbers"),
        ("JPY", 15.5, "JPY has no minor units"),
        ("KWD", "1.2345", "at most 3 decimal places"),
        ("EUR", "12.345", "Amounts in EUR have at most 2 decimal places"),
        (None, "12.345", "Amounts in USD have at most 2 decimal places"),
    ],
)
async def test_more_decimals_than_the_currency_has_is_422(
    client, factory, currency, sent, expected
):
    boss, alice = await factory.employer(), await factory.employee()
    for code in ("JPY", "KWD", "EUR"):
        await factory.rate(boss, code, "1", "2025-01-01")

    response = await file(client, alice, amount=sent, currency=currency)

    assert response.status_code == 422, response.text
    assert expected in message(response)
    assert (await client.get("/api/tickets", headers=alice.headers)).json()["total"] == 0


@pytest.mark.parametrize(
    ("spent_on", "rate", "rate_date", "company_amount"),
    [
        ("2025-01-09", "1.1", "2025-01-01", "11.00"),
        ("2025-01-10", "1.2", "2025-01-10", "12.00"),  # a rate holds from its first day
        ("2025-01-19", "1.2", "2025-01-10", "12.00"),  # not the later one of the 20th
        ("2025-06-30", "1.3", "2025-01-20", "13.00"),
    ],
)
async def test_a_ticket_is_converted_at_the_latest_rate_on_or_before_its_date(
    client, factory, spent_on, rate, rate_date, company_amount
):
    boss, alice = await factory.employer(), await factory.employee()
    for valid_from, value in (("2025-01-20", "1.3"), ("2025-01-01", "1.1"), ("2025-01-10", "1.2")):
        await factory.rate(boss, "EUR", value, valid_from)

    ticket = await filed(client, alice, amount="10.00", currency="EUR", spent_on=spent_on)

    assert conversion(ticket) == ("10.00", "EUR", company_amount, rate, rate_date)


# Rate 0.0125: these yen land exactly on half a cent, which goes to the even cent, up
# or down; the rest round to the nearer cent.
@pytest.mark.parametrize(
    ("yen", "dollars"),
    [
        (2, "0.02"),  # 0.025, down (half up would give 0.03)
        (6, "0.08"),  # 0.075, up (half down or truncating would give 0.07)
        (10, "0.12"),  # 0.125, down
        (14, "0.18"),  # 0.175, up
        (1, "0.01"),  # 0.0125
        (3, "0.04"),  # 0.0375
    ],
)
async def test_the_company_amount_is_rounded_half_to_even_cents(client, factory, yen, dollars):
    boss, alice = await factory.employer(), await factory.employee()
    await factory.rate(boss, "JPY", "0.0125", "2025-01-01")

    ticket = await filed(client, alice, amount=yen, currency="JPY")

    assert (ticket["amount"], ticket["company_amount"]) == (str(yen), dollars)


async def test_a_rate_recorded_later_never_changes_a_filed_ticket(client, factory, database_url):
    boss, alice = await factory.employer(), await factory.employee()
    await factory.rate(boss, "EUR", "1.1", "2025-01-01")
    ticket = await filed(client, alice, amount="100.00", currency="EUR", spent_on="2025-03-15")

    # Backdated before the purchase, and on its very day: either would convert it now.
    await factory.rate(boss, "EUR", "1.3", "2025-03-01")
    await factory.rate(boss, "EUR", "1.4", "2025-03-15")
    described = await edited(client, alice, ticket, description="Taxi to the airport")

    assert conversion(ticket) == ("100.00", "EUR", "110.00", "1.1", "2025-01-01")
    assert conversion(await fetch(client, boss, ticket)) == conversion(ticket)
    assert conversion(described) == conversion(ticket)
    listed = (await client.get("/api/tickets", headers=boss.headers)).json()["items"]
    assert [conversion(item) for item in listed] == [conversion(ticket)]
    await assert_totals_match_a_recount(database_url)


async def test_editing_the_amount_date_or_currency_converts_again_and_the_history_shows_it(
    client, factory, database_url
):
    boss, alice = await factory.employer(), await factory.employee()
    await factory.rate(boss, "EUR", "1.1", "2025-01-01")
    ticket = await filed(client, alice, amount="100.00", currency="EUR", spent_on="2025-03-15")
    await factory.rate(boss, "EUR", "1.3", "2025-03-01")
    await factory.rate(boss, "EUR", "1.4", "2025-03-15")

    amount = await edited(client, alice, ticket, amount="100.50")
    moved = await edited(client, alice, ticket, spent_on="2025-03-10")
    no_rate = await client.patch(
        f"/api/tickets/{ticket['id']}", json={"spent_on": "2024-12-31"}, headers=alice.headers
    )
    in_dollars = await edited(client, alice, ticket, currency="usd")

    assert conversion(amount) == ("100.50", "EUR", "140.70", "1.4", "2025-03-15")
    assert conversion(moved) == ("100.50", "EUR", "130.65", "1.3", "2025-03-01")
    assert no_rate.status_code == 422
    assert "no exchange rate from EUR to USD valid on 2024-12-31" in message(no_rate)
    assert conversion(in_dollars) == ("100.50", "USD", "100.50", "1", None)
    history = (
        await client.get(f"/api/tickets/{ticket['id']}/history", headers=alice.headers)
    ).json()
    assert [entry["changes"] for entry in history[1:]] == [
        {
            "amount": ["100.00", "100.50"],
            "company_amount": ["110.00", "140.70"],
            "exchange_rate": ["1.1", "1.4"],
            "rate_date": ["2025-01-01", "2025-03-15"],
        },
        {
            "spent_on": ["2025-03-15", "2025-03-10"],
            "company_amount": ["140.70", "130.65"],
            "exchange_rate": ["1.4", "1.3"],
            "rate_date": ["2025-03-15", "2025-03-01"],
        },
        {
            "currency": ["EUR", "USD"],
            "company_amount": ["130.65", "100.50"],
            "exchange_rate": ["1.3", "1"],
            "rate_date": ["2025-03-01", None],
        },
    ]
    await assert_totals_match_a_recount(database_url)


async def test_changing_the_currency_checks_the_amount_against_the_new_one(client, factory):
    boss, alice = await factory.employer(), await factory.employee()
    await factory.rate(boss, "JPY", "0.0064", "2025-01-01")
    await factory.rate(boss, "EUR", "1.1", "2025-01-01")
    ticket = await filed(client, alice, amount="15.50", currency="EUR")

    to_yen = await client.patch(
        f"/api/tickets/{ticket['id']}", json={"currency": "JPY"}, headers=alice.headers
    )
    whole = await edited(client, alice, ticket, currency="JPY", amount="1500")

    assert to_yen.status_code == 422
    assert "JPY has no minor units" in message(to_yen)
    assert conversion(whole) == ("1500", "JPY", "9.60", "0.0064", "2025-01-01")


@pytest.mark.parametrize("rates", [[], [("2025-02-02", "1.1")]], ids=["none", "only later"])
async def test_a_ticket_with_no_rate_on_its_date_is_422_naming_the_currency_and_date(
    client, factory, rates
):
    boss, alice = await factory.employer(), await factory.employee()
    for valid_from, rate in rates:
        await factory.rate(boss, "EUR", rate, valid_from)

    response = await file(client, alice, amount="10.00", currency="EUR", spent_on="2025-02-01")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "currency"]
    assert "There is no exchange rate from EUR to USD valid on 2025-02-01" in message(response)
    assert "with a date on or before 2025-02-01" in message(response)
    assert (await client.get("/api/tickets", headers=alice.headers)).json()["total"] == 0


@pytest.mark.parametrize(
    ("yen", "status", "expected"),
    [
        (156250000, 201, "1000000.00"),  # exactly the most one ticket may claim
        (156250001, 422, "is $1,000,000.01, which is above the $1,000,000.00"),
    ],
)
async def test_the_company_amount_is_held_to_the_largest_claim(
    client, factory, yen, status, expected
):
    boss, alice = await factory.employer(), await factory.employee()
    await factory.rate(boss, "JPY", "0.0064", "2025-01-01")

    response = await file(client, alice, amount=yen, currency="JPY")

    assert response.status_code == status, response.text
    shown = response.json()["company_amount"] if status == 201 else message(response)
    assert expected in shown


@pytest.mark.parametrize(
    ("won", "status", "company_amount"),
    [(5, 422, None), (6, 201, "0.01"), (15, 201, "0.02")],  # 0.005 is 0.00, half to even
)
async def test_an_amount_worth_less_than_a_cent_is_422(
    client, factory, won, status, company_amount
):
    boss, alice = await factory.employer(), await factory.employee()
    await factory.rate(boss, "KRW", "0.001", "2025-01-01")

    response = await file(client, alice, amount=won, currency="KRW")

    assert response.status_code == status, response.text
    if status == 422:
        assert "less than the smallest amount of USD" in message(response)
    else:
        assert response.json()["company_amount"] == company_amount


@pytest.mark.parametrize("currency", [{}, {"currency": None}, {"currency": "USD"}])
async def test_a_ticket_in_the_company_currency_needs_no_rate(client, factory, currency):
    alice = await factory.employee()

    ticket = await filed(client, alice, amount="42.5", **currency)

    assert conversion(ticket) == ("42.50", "USD", "42.50", "1", None)


# Possible duplicates


async def test_the_same_amount_in_another_currency_is_not_a_duplicate(client, factory):
    boss, alice = await factory.employer(), await factory.employee()
    await factory.rate(boss, "EUR", "1.1", "2025-01-01")
    euros = await filed(client, alice, amount="42.00", currency="EUR")
    dollars = await filed(client, alice, amount="42.00")

    twin = await filed(client, alice, amount="42", currency="eur")

    assert (dollars["flags"], dollars["duplicate_of"]) == ([], [])
    assert (twin["flags"], twin["duplicate_of"]) == (["possible_duplicate"], [euros["id"]])
    seen = await fetch(client, alice, euros)
    assert (seen["flags"], seen["duplicate_of"]) == (["possible_duplicate"], [twin["id"]])
    # Moved into euros, the dollar ticket is the same purchase too.
    moved = await edited(client, alice, dollars, currency="EUR")
    assert moved["duplicate_of"] == [euros["id"], twin["id"]]
