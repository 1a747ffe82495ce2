"""Exchange-rate files: our own currency,rate,date and the ECB's reference files become
rates in the company currency, exact to the twelfth decimal, or are refused with every
problem and its line."""

from datetime import date
from decimal import Decimal

import pytest

from contoso.currencies.files import NO_RATES, RateLine, RatesFileError, parse_rates
from contoso.currency_codes import MAX_RATE, exact_rate, unknown_currency

# The ECB's daily eurofxref.csv as it is served: spaces after commas, a trailing comma.
DAILY = (
    "Date, USD, JPY, BGN, CZK, DKK, GBP, HUF, PLN, RON, SEK, CHF, ISK, NOK, TRY, AUD, BRL, "
    "CAD, CNY, HKD, IDR, ILS, INR, KRW, MXN, MYR, NZD, PHP, SGD, THB, ZAR, \n"
    "21 November 2025, 1.1512, 181.69, 1.9558, 24.195, 7.4693, 0.87950, 384.10, 4.2373, "
    "5.0870, 10.9945, 0.9288, 145.80, 11.8010, 48.81, 1.7862, 6.1540, 1.6226, 8.1903, "
    "8.9620, 19286.69, 3.7816, 102.3620, 1700.63, 21.3450, 4.8063, 2.0640, 68.073, 1.5082, "
    "37.468, 20.0478, \n"
)
DAILY_CURRENCIES = DAILY.split("\n")[0].replace(" ", "").split(",")[1:-1]

# eurofxref-hist.csv, newest first: currencies gone since (CYP, LTL, HRK) keep their
# columns, and N/A (or nothing) where a day has no quote (RUB since March 2022).
HISTORY = (
    "Date,USD,JPY,BGN,CYP,CZK,GBP,HUF,LTL,ISK,HRK,RUB,TRY,\n"
    "2025-11-21,1.1512,181.69,1.9558,N/A,24.195,0.87950,384.10,N/A,145.80,N/A,N/A,48.81,\n"
    "2025-11-20,1.1530,181.20,1.9558,N/A,24.210,0.87800,385.00,N/A,146.00,N/A,,48.70,\n"
    "2007-06-29,1.3505,166.63,1.9558,0.5842,28.800,0.67400,246.30,3.4528,84.92,7.3047,"
    "34.8135,1.7695,\n"
)


def refused(text: str, company: str = "USD") -> list[tuple[int, str]]:
    with pytest.raises(RatesFileError) as raised:
        parse_rates(text, company)
    return raised.value.problems


def rates_of(rates: list[RateLine]) -> dict[str, Decimal]:
    return {rate.currency: rate.rate for rate in rates}


def ratio(numerator: str, denominator: str) -> Decimal:
    return exact_rate(Decimal(numerator) / Decimal(denominator))


# The ECB's daily file.


def test_daily_file_gives_every_currency_in_dollars_and_the_euro_first() -> None:
    rates = parse_rates(DAILY, "USD")

    assert [rate.currency for rate in rates] == ["EUR"] + [
        code for code in DAILY_CURRENCIES if code != "USD"
    ]
    assert {(rate.line, rate.valid_from) for rate in rates} == {(2, date(2025, 11, 21))}
    by_currency = rates_of(rates)
    assert by_currency["EUR"] == Decimal("1.1512")
    assert by_currency["JPY"] == ratio("1.1512", "181.69") == Decimal("0.006336066927")
    assert by_currency["GBP"] == ratio("1.1512", "0.87950") == Decimal("1.308925525867")
    assert by_currency["IDR"] == ratio("1.1512", "19286.69") == Decimal("0.000059688832")
    assert by_currency["CHF"] == ratio("1.1512", "0.9288")


def test_daily_file_in_euros_inverts_each_quote() -> None:
    by_currency = rates_of(parse_rates(DAILY, "EUR"))

    assert list(by_currency) == DAILY_CURRENCIES
    assert by_currency["USD"] == ratio("1", "1.1512") == Decimal("0.868658790827")
    assert by_currency["JPY"] == ratio("1", "181.69")
    assert by_currency["KRW"] == ratio("1", "1700.63")


def test_daily_file_in_yen_goes_through_the_yen_quote() -> None:
    by_currency = rates_of(parse_rates(DAILY, "JPY"))

    assert "JPY" not in by_currency
    assert by_currency["EUR"] == Decimal("181.69")
    assert by_currency["USD"] == ratio("181.69", "1.1512") == Decimal("157.826615705351")
    assert by_currency["GBP"] == ratio("181.69", "0.87950")


def test_company_currency_the_ecb_does_not_quote_is_one_error_on_the_header() -> None:
    assert refused(DAILY, "KWD") == [
        (
            1,
            "The ECB's file has no KWD quotes, so it cannot give rates in KWD; use a "
            "currency,rate,date file",
        )
    ]


# The ECB's historical file.


def test_history_keeps_file_order_and_skips_unquoted_and_obsolete_currencies() -> None:
    rates = parse_rates(HISTORY, "USD")

    assert [(rate.line, rate.valid_from, rate.currency) for rate in rates] == [
        *((2, date(2025, 11, 21), code) for code in ["EUR", "JPY", "BGN", "CZK", "GBP"]),
        *((2, date(2025, 11, 21), code) for code in ["HUF", "ISK", "TRY"]),
        *((3, date(2025, 11, 20), code) for code in ["EUR", "JPY", "BGN", "CZK", "GBP"]),
        *((3, date(2025, 11, 20), code) for code in ["HUF", "ISK", "TRY"]),
        *((4, date(2007, 6, 29), code) for code in ["EUR", "JPY", "BGN", "CZK", "GBP"]),
        *((4, date(2007, 6, 29), code) for code in ["HUF", "ISK", "RUB", "TRY"]),
    ]
    assert rates[-2].rate == ratio("1.3505", "34.8135")  # RUB, when the ECB still quoted it
    assert rates[-1].rate == ratio("1.3505", "1.7695")
    assert rates[8].rate == Decimal("1.1530")  # EUR on 2025-11-20


def test_history_in_euros() -> None:
    rates = parse_rates(HISTORY, "EUR")

    assert [rate.currency for rate in rates if rate.line == 4] == [
        "USD",
        "JPY",
        "BGN",
        "CZK",
        "GBP",
        "HUF",
        "ISK",
        "RUB",
        "TRY",
    ]
    assert rates[0] == RateLine(2, "USD", ratio("1", "1.1512"), date(2025, 11, 21))


def test_a_date_without_the_company_quote_is_an_error_naming_it() -> None:
    text = HISTORY.replace("2025-11-20,1.1530,", "2025-11-20,N/A,")

    assert refused(text, "USD") == [
        (
            3,
            "the ECB gives no USD quote on 2025-11-20, so no rate in USD can be worked out "
            "for that day: remove the row",
        )
    ]
    assert len(parse_rates(text, "JPY")) == 8 + 7 + 9  # the day is fine in yen, without USD


@pytest.mark.parametrize("quote", ["abc", "-181.69", "1.8169e2", "NaN", "0", "0.000", "181,69"])
def test_a_bad_quote_is_an_error_naming_line_and_currency(quote: str) -> None:
    text = HISTORY.replace("2025-11-20,1.1530,181.20,", f'2025-11-20,1.1530,"{quote}",')

    [(line, message)] = refused(text)

    assert line == 3
    assert "JPY quote" in message
    assert "1.1512" in message or "N/A" in message  # how to write it instead


def test_a_bad_company_quote_is_one_error_not_a_missing_quote_too() -> None:
    text = HISTORY.replace("2025-11-20,1.1530,", "2025-11-20,1.15x,")

    [(line, message)] = refused(text)

    assert line == 3
    assert message.startswith("the USD quote '1.15x' is not a number")


def test_obsolete_columns_are_never_read() -> None:
    text = HISTORY.replace("0.5842", "garbage").replace("3.4528", "-1")

    assert len(parse_rates(text, "USD")) == 25


@pytest.mark.parametrize(
    ("written", "fix"),
    [
        ("31 Novembre 2025", "the ECB writes 21 November 2025 or 2025-11-21"),
        ("2025/11/21", "the ECB writes 21 November 2025 or 2025-11-21"),
        ("", "the ECB writes 21 November 2025 or 2025-11-21"),
        ("31 November 2025", "is not a day of the calendar"),
        ("2025-02-29", "is not a day of the calendar"),
    ],
)
def test_a_bad_ecb_date_is_an_error(written: str, fix: str) -> None:
    text = DAILY.replace("21 November 2025", written)

    [(line, message)] = refused(text)

    assert line == 2
    assert fix in message


@pytest.mark.parametrize(
    ("row", "cells"),
    [
        ("2025-11-20,1.1530,1.9558,N/A,24.210,0.87800,385.00,N/A,146.00,N/A,,48.70,", 13),
        ("2025-11-20,1.1530,181.20,1.9558,N/A,24.210,0.87800,385.00,N/A,146.00,N/A,,48.70", 13),
        ("2025-11-20,1.1530,181.20,1.9558,N/A,24.210,0.87800,385.00,N/A,146.00,N/A,,48.70,1,", 15),
    ],
    ids=["a quote missing", "no trailing comma", "a quote too many"],
)
def test_ecb_rows_have_as_many_cells_as_the_header(row: str, cells: int) -> None:
    text = HISTORY.replace(HISTORY.split("\n")[2], row)

    assert refused(text) == [
        (
            3,
            f"{cells} cells where the header on line 1 has 14: give the date and one value "
            "per currency, N/A for none, ending the line as the header ends",
        )
    ]


def test_ecb_rows_have_as_many_cells_as_the_header_even_without_trailing_commas() -> None:
    text = "\n".join(line.removesuffix(",") for line in HISTORY.split("\n"))

    assert len(parse_rates(text, "USD")) == 25


def test_a_currency_twice_in_the_header_is_an_error() -> None:
    text = "Date,USD,JPY,JPY,\n2025-11-21,1.1512,181.69,181.69,\n"

    assert refused(text) == [(1, "JPY is in the header twice: keep one JPY column")]


def test_each_ecb_date_once() -> None:
    text = HISTORY + "21 November 2025,1.2,180,1.9558,,,,,,,,,,\n"

    assert refused(text) == [(5, "21 November 2025 is already on line 2: keep one row per date")]


@pytest.mark.parametrize(
    ("quote", "fix"),
    [
        ("0.0000000001", "more than the largest rate, 1,000,000,000"),
        ("10000000000000", "which is 0 at 12 decimal places"),
    ],
)
def test_a_quote_that_gives_a_rate_out_of_range_is_an_error(quote: str, fix: str) -> None:
    text = DAILY.replace(", 181.69,", f", {quote},")

    [(line, message)] = refused(text, "EUR")

    assert line == 2
    assert message.startswith("the JPY quote gives 1 JPY = ")
    assert fix in message


# Our own format.


@pytest.mark.parametrize("header", ["", "currency,rate,date\n", " Currency , RATE , Date \n"])
def test_own_file_with_or_without_header(header: str) -> None:
    text = header + "EUR,1.1512,2026-11-20\n jpy , 0.0063 , 2026-11-20 \nEUR,1.16,2026-11-21\n"
    first = 2 if header else 1

    assert parse_rates(text, "USD") == [
        RateLine(first, "EUR", Decimal("1.1512"), date(2026, 11, 20)),
        RateLine(first + 1, "JPY", Decimal("0.0063"), date(2026, 11, 20)),
        RateLine(first + 2, "EUR", Decimal("1.16"), date(2026, 11, 21)),
    ]


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("1000000000", MAX_RATE),
        ("0.000000000001", Decimal("1E-12")),
        ("1.123456789012000", Decimal("1.123456789012")),  # trailing zeros are no decimals
        ("007.50", Decimal("7.5")),
    ],
)
def test_own_rates_at_the_limits_are_kept(written: str, kept: Decimal) -> None:
    [rate] = parse_rates(f"EUR,{written},2026-11-20", "USD")

    assert rate.rate == kept


@pytest.mark.parametrize(
    ("line", "fix"),
    [
        ("XYZ,1.2,2026-11-20", unknown_currency("XYZ")),
        ("EURO,1.2,2026-11-20", unknown_currency("EURO")),
        ("CYP,1.2,2026-11-20", unknown_currency("CYP")),
        (",1.2,2026-11-20", "the currency is missing"),
        ("usd,1,2026-11-20", "USD is the company currency: its rate is always 1"),
        ("EUR,-1.2,2026-11-20", "with no sign or exponent"),
        ("EUR,+1.2,2026-11-20", "with no sign or exponent"),
        ("EUR,1e3,2026-11-20", "with no sign or exponent"),
        ("EUR,NaN,2026-11-20", "with no sign or exponent"),
        ("EUR,Infinity,2026-11-20", "with no sign or exponent"),
        ("EUR,1.,2026-11-20", "with no sign or exponent"),
        ("EUR,.5,2026-11-20", "with no sign or exponent"),
        ("EUR,\uff11.\uff15,2026-11-20", "with no sign or exponent"),  # fullwidth 1.5
        ("EUR,,2026-11-20", "with no sign or exponent"),
        ("EUR,0,2026-11-20", "it must be more than 0"),
        ("EUR,0.000,2026-11-20", "it must be more than 0"),
        ("EUR,1000000000.5,2026-11-20", "more than the largest rate, 1,000,000,000"),
        ("EUR,1.1234567890123,2026-11-20", "round it to 12"),
        ("EUR,1.2,2026-02-30", "is not a day of the calendar"),
        ("EUR,1.2,2999-01-01", "the date cannot be in the future: correct it"),
        ("EUR,1.2,1999-12-31", "the date must be on or after 2000-01-01: correct it"),
        ("EUR,1.2,20261120", "write it as YYYY-MM-DD"),
        ("EUR,1.2,2026-W47-5", "write it as YYYY-MM-DD"),
        ("EUR,1.2,20/11/2026", "write it as YYYY-MM-DD"),
        ("EUR,1.2,2026-11-20T00:00", "write it as YYYY-MM-DD"),
        ("EUR,1.2,", "write it as YYYY-MM-DD"),
        ("EUR,1.2", "2 values where 3 are needed: currency,rate,date"),
        ("EUR,1.2,2026-11-20,", "4 values where 3 are needed: currency,rate,date"),
        ("EUR,1,2,2026-11-20", "4 values where 3 are needed: currency,rate,date"),
    ],
)
def test_own_line_refused(line: str, fix: str) -> None:
    [(number, message)] = refused(f"currency,rate,date\nJPY,0.0063,2026-11-20\n{line}\n")

    assert number == 3
    assert fix in message


def test_every_problem_is_reported_with_its_line() -> None:
    text = (
        "EUR,1.1512,2026-11-20\n"
        "XYZ,-1,2026-13-01\n"
        "GBP,1.31,2026-11-20\n"
        "\n"
        "eur,1.15,2026-11-20\n"
        "USD,1,2026-11-20\n"
    )

    problems = refused(text)

    assert [line for line, _ in problems] == [2, 2, 2, 5, 6]
    assert problems[3] == (
        5,
        "EUR on 2026-11-20 is already on line 1: keep one rate per currency and date",
    )


def test_a_header_in_another_order_is_refused() -> None:
    assert refused("currency,date,rate\nEUR,2026-11-20,1.1512\n")[0] == (
        1,
        "the header is 'currency,date,rate': it must be currency,rate,date, in that order",
    )


# Either format.


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("", 1),
        ("\ufeff", 1),
        ("\r\n  \n\n", 1),
        ("currency,rate,date\n", 1),
        ("\n\ncurrency,rate,date\n\n", 3),
        (DAILY.split("\n")[0], 1),
        ("Date,USD,CYP,\n2025-11-21,N/A,0.5842,\n", 1),  # nothing but an obsolete quote
    ],
)
def test_a_file_without_rates_is_refused(text: str, line: int) -> None:
    assert refused(text, "EUR") == [(line, NO_RATES)]


@pytest.mark.parametrize(
    "text",
    [
        "currency,rate,date\nEUR,1.1512,2026-11-20\n\nJPY,0.0063,2026-11-21\n",
        "EUR,1.1512,2026-11-20\n\nJPY,0.0063,2026-11-21",
    ],
)
def test_byte_order_mark_crlf_and_blank_lines_keep_line_numbers(text: str) -> None:
    windows = "\ufeff" + text.replace("\n", "\r\n")
    last = text.count("\n") + (0 if text.endswith("\n") else 1)

    rates = parse_rates(windows, "USD")

    assert [(rate.line, rate.currency) for rate in rates] == [(last - 2, "EUR"), (last, "JPY")]


def test_ecb_file_with_byte_order_mark_and_crlf() -> None:
    windows = "\ufeff" + DAILY.replace("\n", "\r\n")

    assert parse_rates(windows, "USD") == parse_rates(DAILY, "USD")


def test_the_error_reads_as_one_line_per_problem() -> None:
    with pytest.raises(ValueError, match=r"^line 1: .*\nline 2: .*must be more than 0$"):
        parse_rates("XYZ,1,2026-11-20\nEUR,0,2026-11-20\n", "USD")


def test_an_ecb_row_dated_in_the_future_is_refused() -> None:
    [(number, message)] = refused("Date,USD,JPY,\n2999-01-01,1.1512,181.69,\n", "EUR")

    assert (number, message) == (2, "the date cannot be in the future: correct it")
