"""`contoso import-rates FILE` as people run it: the ECB's files and our own become rates
in the company currency, all or none, and every refusal names what to correct."""

from tests.support.servers import contoso_env, run_contoso

# The ECB's daily eurofxref.csv, as served: spaces after commas, a trailing comma.
DAILY = "Date, USD, JPY, GBP, \n21 November 2025, 1.1512, 181.69, 0.87950, \n"
# eurofxref-hist.csv, newest first, with a currency gone since (CYP, N/A).
HISTORY = "Date,USD,JPY,CYP,\n" "2025-11-21,1.1512,181.69,N/A,\n" "2025-11-20,1.1530,181.20,N/A,\n"


def import_rates(tmp_path, database_url, text, name="rates.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return run_contoso(["import-rates", str(path)], contoso_env(tmp_path, database_url))


async def rates(client, account):
    listed = (await client.get("/api/exchange-rates", headers=account.headers)).json()
    return {(r["currency"], r["valid_from"]): (r["rate"], r["created_by"]) for r in listed["items"]}


async def test_the_ecbs_daily_file_is_recorded_in_dollars_and_converts_tickets(
    tmp_path, database_url, client, factory
):
    alice = await factory.employee()

    result = import_rates(tmp_path, database_url, DAILY, "eurofxref.csv")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3 exchange rates recorded (USD per unit), 0 already recorded."
    # 1 EUR buys 1.1512 USD or 181.69 JPY, so 1 JPY buys 1.1512 / 181.69 USD.
    assert await rates(client, alice) == {
        ("EUR", "2025-11-21"): ("1.1512", None),
        ("GBP", "2025-11-21"): ("1.308925525867", None),
        ("JPY", "2025-11-21"): ("0.006336066927", None),
    }
    ticket = await factory.ticket(alice, currency="JPY", amount="1500", spent_on="2025-11-21")
    assert (ticket["company_amount"], ticket["exchange_rate"]) == ("9.50", "0.006336066927")


async def test_importing_again_records_only_what_is_new(tmp_path, database_url, client, factory):
    alice = await factory.employee()
    daily = import_rates(tmp_path, database_url, DAILY)

    history = import_rates(tmp_path, database_url, HISTORY)
    again = import_rates(tmp_path, database_url, HISTORY)

    assert daily.returncode == 0, daily.stderr
    assert (history.returncode, again.returncode) == (0, 0), history.stderr + again.stderr
    assert history.stdout.strip() == (
        "2 exchange rates recorded (USD per unit), 2 already recorded."
    )
    assert again.stdout.strip() == "0 exchange rates recorded (USD per unit), 4 already recorded."
    recorded = await rates(client, alice)
    assert len(recorded) == 5
    assert recorded[("JPY", "2025-11-20")] == ("0.006363134658", None)  # 1.1530 / 181.20


async def test_a_file_clashing_with_a_recorded_rate_records_nothing_and_names_the_clash(
    tmp_path, database_url, client, factory
):
    boss = await factory.employer(username="Boss")
    await factory.rate(boss, "EUR", "1.2", "2025-11-21")

    result = import_rates(tmp_path, database_url, HISTORY)

    assert result.returncode != 0
    assert "EUR from 2025-11-21: 1.2 is recorded, not 1.1512" in result.stderr
    assert "Nothing was recorded" in result.stderr
    assert await rates(client, boss) == {
        ("EUR", "2025-11-21"): ("1.2", {"id": boss.id, "username": "Boss"})
    }


async def test_a_malformed_file_records_nothing_and_names_each_wrong_line(
    tmp_path, database_url, client, factory
):
    boss = await factory.employer()
    text = (
        "currency,rate,date\n"
        "GBP,1.3089,2025-11-21\n"
        "JPY,abc,2025-11-21\n"
        "DEM,1.9558,2025-11-21\n"
        "USD,1,2025-11-21\n"
    )

    result = import_rates(tmp_path, database_url, text)

    assert result.returncode != 0
    assert "Nothing was recorded; the file has problems:" in result.stderr
    assert "line 3: the rate 'abc' is not a number" in result.stderr
    assert "line 4: 'DEM' is not a currency in use" in result.stderr
    assert "line 5: USD is the company currency" in result.stderr
    assert "line 2" not in result.stderr
    assert await rates(client, boss) == {}


def test_a_file_that_cannot_be_read_is_named(tmp_path, database_url):
    missing = tmp_path / "nowhere.csv"

    result = run_contoso(["import-rates", str(missing)], contoso_env(tmp_path, database_url))

    assert result.returncode != 0
    assert f"contoso: cannot read {missing}" in result.stderr
