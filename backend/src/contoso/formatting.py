"""Numbers and times as people read them, formatted by Babel (CLDR data), the same on
every door that shows them: the console, the pages and exports."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

# Amounts as an accountant writes them: thousands grouped, always two decimals.
_AMOUNT = "#,##0.00"
LOCALE = "en_US"


def amount(value: Decimal) -> str:
    """`1249.99` as `1,249.99`."""
    return format_decimal(value, format=_AMOUNT, locale=LOCALE)


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
