"""Exchange-rate files for `contoso import-rates`, read into rates in our meaning: how
many units of the company currency one unit of a currency buys, valid from a date.

Two formats, told apart by the first non-blank line:
- our own `currency,rate,date` (EUR,1.1512,2026-11-20), its header optional;
- the European Central Bank's reference files, daily (eurofxref.csv) and historical
  (eurofxref-hist.csv), whose header starts with `Date` and whose quotes are units of
  each currency per 1 EUR; they are converted to the company currency.

Pure: no database. Every problem in the file is reported at once, each with its line.
"""

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import ParamSpec, TypeVar

from babel.dates import get_month_names
from babel.numbers import format_decimal

from contoso.currency_codes import (
    MAX_RATE,
    RATE_DECIMALS,
    exact_rate,
    is_currency,
    unknown_currency,
)
from contoso.formatting import LOCALE
from contoso.validation import not_in_future

EURO = "EUR"
NO_RATES = "no rates in the file"

_OWN_HEADER = ("currency", "rate", "date")
_OWN_EXAMPLE = "EUR,1.1512,2026-11-20"
_NOT_QUOTED = frozenset({"", "N/A"})  # the ECB's cell for a currency it did not quote
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# ASCII digits only: Decimal() would also take fullwidth or Arabic-Indic digits, signs,
# exponents, NaN and Infinity.
_PLAIN_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# date.fromisoformat alone would also take 20261120 and 2026-W47-5.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ECB_DATE = re.compile(r"([0-9]{1,2}) ([A-Za-z]+) ([0-9]{4})")
# English whatever the process locale is, unlike strptime's %B.
_MONTHS = {name.casefold(): number for number, name in get_month_names("wide", locale="en").items()}

_P = ParamSpec("_P")
_T = TypeVar("_T")
_Row = tuple[int, list[str]]  # a non-blank line: its number and its stripped cells


@dataclass(frozen=True)
class RateLine:
    """One rate read from a file: 1 `currency` buys `rate` units of the company
    currency from `valid_from` on. `line` is where it came from, counted from 1."""

    line: int
    currency: str
    rate: Decimal
    valid_from: date


class RatesFileError(ValueError):
    """Every problem found in a rates file, each as (line number, message a person can
    act on), in line order."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        super().__init__("\n".join(f"line {line}: {message}" for line, message in problems))
        self.problems = problems


def parse_rates(text: str, company_currency: str) -> list[RateLine]:
    """The rates in `text`, in file order, for a company keeping its books in
    `company_currency` (an upper-case ISO 4217 code). Never a rate for the company
    currency itself. From an ECB file, each date gives EUR first, then the file's
    currencies in column order; currencies no longer in use (CYP, LTL, ...) and cells
    the ECB left unquoted (N/A) are skipped.

    Raises RatesFileError with every problem when any line is wrong or no rate is found.
    """
    problems = _Problems()
    rows = _rows(text, problems)
    rates: list[RateLine] = []
    if rows:
        if rows[0][1][0].casefold() == "date":
            rates = _ecb_rates(rows, company_currency, problems)
        else:
            rates = _own_rates(rows, company_currency, problems)
    if not rates and not problems.found:
        problems.add(rows[0][0] if rows else 1, NO_RATES)
    if problems.found:
        raise RatesFileError(sorted(problems.found, key=lambda problem: problem[0]))
    return rates


class _Refused(Exception):
    """A cell that cannot be used, with the message saying how to fix it."""


class _Problems:
    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []

    def add(self, line: int, message: str) -> None:
        self.found.append((line, message))

    def check(
        self, line: int, parse: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs
    ) -> _T | None:
        """What `parse` returns, or None once its refusal is recorded against `line`."""
        try:
            return parse(*args, **kwargs)
        except _Refused as refused:
            self.add(line, str(refused))
            return None


def _rows(text: str, problems: _Problems) -> list[_Row]:
    rows: list[_Row] = []
    lines = _LINE_BREAK.split(text.removeprefix("\ufeff"))
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            # One line at a time, so a stray quote cannot swallow the lines after it.
            cells = next(csv.reader([line], skipinitialspace=True))
        except csv.Error as error:
            problems.add(number, f"this line cannot be read as CSV ({error}): correct it")
            continue
        rows.append((number, [cell.strip() for cell in cells] or [""]))
    return rows


# Our own format: currency,rate,date.


def _own_rates(rows: list[_Row], company: str, problems: _Problems) -> list[RateLine]:
    header_line, header = rows[0]
    if header[0].casefold() == _OWN_HEADER[0]:
        if tuple(cell.casefold() for cell in header) != _OWN_HEADER:
            problems.add(
                header_line,
                f"the header is {','.join(header)!r}: it must be currency,rate,date, "
                "in that order",
            )
        rows = rows[1:]
    rates: list[RateLine] = []
    first_seen: dict[tuple[str, date], int] = {}
    for line, cells in rows:
        if len(cells) != len(_OWN_HEADER):
            problems.add(
                line,
                f"{len(cells)} values where 3 are needed: currency,rate,date, such as "
                f"{_OWN_EXAMPLE}",
            )
            continue
        currency = problems.check(line, _own_currency, cells[0], company)
        rate = problems.check(line, _own_rate, cells[1])
        valid_from = problems.check(line, _valid_from, _iso_date, cells[2])
        if currency is None or rate is None or valid_from is None:
            continue
        first = first_seen.setdefault((currency, valid_from), line)
        if first != line:
            problems.add(
                line,
                f"{currency} on {valid_from.isoformat()} is already on line {first}: keep "
                "one rate per currency and date",
            )
            continue
        rates.append(RateLine(line, currency, rate, valid_from))
    return rates


def _own_currency(cell: str, company: str) -> str:
    if not cell:
        raise _Refused(f"the currency is missing: write its ISO 4217 code, as in {_OWN_EXAMPLE}")
    code = cell.upper()
    if not is_currency(code):
        raise _Refused(unknown_currency(cell))
    if code == company:
        raise _Refused(f"{company} is the company currency: its rate is always 1")
    return code


def _own_rate(cell: str) -> Decimal:
    value = _plain_decimal(cell, "the rate")
    if value == 0:
        raise _Refused("the rate is 0: it must be more than 0")
    if value > MAX_RATE:
        raise _Refused(f"the rate {cell} is more than the largest rate, {_max_rate()}")
    rate = exact_rate(value)
    if rate != value:
        raise _Refused(
            f"the rate {cell} has more than {RATE_DECIMALS} decimal places: round it to "
            f"{RATE_DECIMALS}"
        )
    return rate


def _iso_date(cell: str) -> date:
    if not _ISO_DATE.fullmatch(cell):
        raise _Refused(f"{cell!r} is not a date: write it as YYYY-MM-DD, such as 2026-11-20")
    try:
        return date.fromisoformat(cell)
    except ValueError:
        raise _Refused(f"{cell} is not a day of the calendar: correct the date") from None


_HAS_COME = not_in_future("the date")


def _valid_from(read: Callable[[str], date], cell: str) -> date:
    """The day `read` finds in `cell`, if rates may start on it: as the API says, a day
    that has come, not before 2000 (a mistyped future date would silently apply to
    purchases to come)."""
    day = read(cell)
    try:
        return _HAS_COME(day)
    except ValueError as refused:
        raise _Refused(f"{refused}: correct it") from None


# The ECB's files: Date, then units of each currency per 1 EUR.


def _ecb_rates(rows: list[_Row], company: str, problems: _Problems) -> list[RateLine]:
    header_line, header = rows[0]
    codes = [cell.upper() for cell in header[1:]]
    if codes and not codes[-1]:
        codes.pop()  # the ECB ends every line with a comma
    if company != EURO and company not in codes:
        problems.add(
            header_line,
            f"The ECB's file has no {company} quotes, so it cannot give rates in {company}; "
            "use a currency,rate,date file",
        )
        return []
    # Columns of currencies in use, by position; EUR is what the others are quoted in.
    columns: dict[str, int] = {}
    for position, code in enumerate(codes, start=1):
        if code == EURO or not is_currency(code):
            continue
        if code in columns:
            problems.add(header_line, f"{code} is in the header twice: keep one {code} column")
            continue
        columns[code] = position

    rates: list[RateLine] = []
    first_seen: dict[date, int] = {}
    for line, cells in rows[1:]:
        # Exactly as many cells as the header: tolerating a trailing comma more or less would
        # let a row missing one quote shift every later quote onto the wrong currency.
        if len(cells) != len(header):
            problems.add(
                line,
                f"{len(cells)} cells where the header on line {header_line} has "
                f"{len(header)}: give the date and one value per currency, N/A for none, "
                "ending the line as the header ends",
            )
            continue
        valid_from = problems.check(line, _valid_from, _ecb_date, cells[0])
        if valid_from is not None:
            first = first_seen.setdefault(valid_from, line)
            if first != line:
                problems.add(line, f"{cells[0]} is already on line {first}: keep one row per date")
                valid_from = None
        quotes: dict[str, Decimal] = {}
        for code, position in columns.items():
            if cells[position].upper() not in _NOT_QUOTED:
                quote = problems.check(line, _ecb_quote, cells[position], code)
                if quote is not None:
                    quotes[code] = quote
        if company == EURO:
            base = Decimal(1)
        elif cells[columns[company]].upper() in _NOT_QUOTED:
            problems.add(
                line,
                f"the ECB gives no {company} quote on {cells[0]}, so no rate in {company} "
                "can be worked out for that day: remove the row",
            )
            continue
        elif company in quotes:
            base = quotes[company]
        else:
            continue  # its quote is refused above
        if valid_from is None:
            continue
        # 1 EUR buys quote(X) of X and quote(C) of C, so 1 X buys quote(C) / quote(X) of C.
        per_euro = quotes if company == EURO else {EURO: Decimal(1), **quotes}
        for code, quote in per_euro.items():
            if code == company:
                continue
            rate = problems.check(line, _derived_rate, base, quote, code, company)
            if rate is not None:
                rates.append(RateLine(line, code, rate, valid_from))
    return rates


def _ecb_date(cell: str) -> date:
    if _ISO_DATE.fullmatch(cell):
        return _iso_date(cell)  # the historical file
    written = _ECB_DATE.fullmatch(cell)  # the daily file: 21 November 2025
    month = _MONTHS.get(written.group(2).casefold()) if written else None
    if written is None or month is None:
        raise _Refused(f"{cell!r} is not a date: the ECB writes 21 November 2025 or 2025-11-21")
    try:
        return date(int(written.group(3)), month, int(written.group(1)))
    except ValueError:
        raise _Refused(f"{cell} is not a day of the calendar: correct the date") from None


def _ecb_quote(cell: str, code: str) -> Decimal:
    value = _plain_decimal(cell, f"the {code} quote")
    if value == 0:
        raise _Refused(f"the {code} quote is 0: give how many {code} 1 EUR buys, or N/A")
    return value


def _derived_rate(base: Decimal, quote: Decimal, code: str, company: str) -> Decimal:
    value = base / quote
    if value > MAX_RATE:
        raise _Refused(
            f"the {code} quote gives 1 {code} = {value} {company}, more than the largest "
            f"rate, {_max_rate()}: check the {code} and {company} quotes"
        )
    rate = exact_rate(value)
    if rate == 0:
        raise _Refused(
            f"the {code} quote gives 1 {code} = {value} {company}, which is 0 at "
            f"{RATE_DECIMALS} decimal places: check the {code} and {company} quotes"
        )
    return rate


def _plain_decimal(cell: str, what: str) -> Decimal:
    if not _PLAIN_DECIMAL.fullmatch(cell):
        raise _Refused(
            f"{what} {cell!r} is not a number: write digits with an optional decimal point, "
            "such as 1.1512, with no sign or exponent"
        )
    return Decimal(cell)


def _max_rate() -> str:
    return format_decimal(MAX_RATE, locale=LOCALE)
