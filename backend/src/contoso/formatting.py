"""Numbers and times as people read them, formatted by Babel (CLDR data), the same on
every door that shows them: the console, the pages and exports; and people's text set
apart in HTML (`isolated`)."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import (
    format_currency,
    format_decimal,
    get_currency_precision,
    get_currency_symbol,
)
from markupsafe import Markup

LOCALE = "en_US"
# en_US's currency pattern with a no-break space after the symbol.
_SPACED = "¤\u00a0#,##0.00"


def money(value: Decimal, currency: str) -> str:
    """An amount with its currency's symbol and decimals: `$1,249.99`, `¥1,500`,
    `KWD 1.234`."""
    return format_currency(value, currency, format=_spaced(currency), locale=LOCALE)


def _spaced(currency: str) -> str | None:
    # CLDR's currency spacing, which Babel leaves out: a symbol ending in a letter (a
    # code, such as KWD or CHF) is kept apart from the digits by a no-break space.
    return _SPACED if get_currency_symbol(currency, locale=LOCALE)[-1:].isalpha() else None


def plain_money(value: Decimal, currency: str) -> str:
    """An amount as a spreadsheet reads a number: the currency's decimals, no symbol,
    no grouping: `1249.99`, `1500`, `1.234`."""
    digits = get_currency_precision(currency)
    pattern = "0." + "0" * digits if digits else "0"
    return format_decimal(value, format=pattern, locale=LOCALE)


def rate(value: Decimal) -> str:
    """An exchange rate with every decimal it was recorded with: `1.1512`, `0.0064`,
    `150`."""
    return format_decimal(value, locale=LOCALE, decimal_quantization=False)


def rate_of(value: Decimal, currency: str, company: str) -> str:
    """What one unit of `currency` buys in `company`, with every decimal recorded and at
    least the company currency's: `1 EUR = $1.1512`, `1 JPY = $0.0064`, `1 EUR = $1.10`,
    `1 USD = ¥150`."""
    bought = format_currency(
        value, company, format=_spaced(company), locale=LOCALE, decimal_quantization=False
    )
    return f"1 {currency} = {bought}"


def count(value: int) -> str:
    """`12345` as `12,345`."""
    return format_decimal(value, locale=LOCALE)


def month(value: date) -> str:
    """The month of `value` with its year: `Dec 2025`."""
    return format_date(value, "MMM y", locale=LOCALE)


def moment(value: datetime, zone: ZoneInfo) -> str:
    """A timestamp to the minute in `zone`, with the zone named as configured:
    `2026-11-21 14:03 Europe/Paris` (abbreviations such as CST are ambiguous)."""
    local = format_datetime(value, "yyyy-MM-dd HH:mm", tzinfo=zone, locale=LOCALE)
    return f"{local} {zone.key}"


def isolated(text: str) -> Markup:
    """`text` (what a person typed: a name, a reference, a link) escaped in a `<bdi>`, so
    right-to-left text in it cannot reorder the words shown around it."""
    return Markup("<bdi>{}</bdi>").format(text)
