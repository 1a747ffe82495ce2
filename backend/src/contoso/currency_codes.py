"""Currencies as ISO 4217 and the CLDR data (through Babel) describe them: which codes
are money somewhere today, and how many minor units (decimals) each has. Never a
hand-written table: JPY has no minor units, KWD has three, and Babel knows them all."""

from decimal import ROUND_HALF_EVEN, Decimal

from babel.core import get_global
from babel.numbers import get_currency_name, get_currency_precision

from contoso.formatting import LOCALE


def _in_use() -> frozenset[str]:
    # Legal tender in some territory with no end date: EUR, not DEM; no XAU or XXX.
    territories = get_global("territory_currencies")
    return frozenset(
        code
        for currencies in territories.values()
        for code, _start, end, tender in currencies
        if end is None and tender
    )


CURRENCIES_IN_USE = _in_use()


def is_currency(code: str) -> bool:
    """Whether `code` (upper case) is an ISO 4217 currency in use today."""
    return code in CURRENCIES_IN_USE


def unknown_currency(code: str) -> str:
    """Why `code` is refused as a currency, for a person to act on."""
    return f"{code!r} is not a currency in use: give its ISO 4217 code, such as USD, EUR or " "JPY"


def minor_units(code: str) -> int:
    """How many decimals amounts in `code` have: 2 for USD, 0 for JPY, 3 for KWD."""
    return get_currency_precision(code)


# The most decimals any currency in use has (KWD's three).
MAX_MINOR_UNITS = max(minor_units(code) for code in CURRENCIES_IN_USE)


def quantum(code: str) -> Decimal:
    """The smallest amount of `code`: 0.01 for USD, 1 for JPY, 0.001 for KWD."""
    return Decimal(1).scaleb(-minor_units(code))


def in_minor_units(amount: Decimal, code: str) -> bool:
    """Whether `amount` has no more decimals than `code` has (12.50 for USD, not 15.5
    for JPY), ignoring trailing zeros: JPY 1500.00 is 1500."""
    return amount == amount.quantize(quantum(code))


def to_minor_units(amount: Decimal, code: str) -> Decimal:
    """`amount` written with exactly `code`'s decimals (JPY 1500, USD 12.50), rounded
    half to even, as accountants and ISO 4217 conversions round."""
    return amount.quantize(quantum(code), rounding=ROUND_HALF_EVEN)


def minor_units_rule(code: str) -> str:
    """How amounts in `code` are written: the error message for one that is not."""
    digits = minor_units(code)
    if digits == 0:
        return f"{code} has no minor units: amounts in {code} are whole numbers, e.g. 1500"
    example = to_minor_units(Decimal("12.5"), code)
    return f"Amounts in {code} have at most {digits} decimal places, e.g. {example}"


def name(code: str) -> str:
    """`EUR` as `Euro`."""
    return str(get_currency_name(code, locale=LOCALE))


# Exchange rates: how many units of the company currency one unit of a currency buys
# (EUR 1.1512 in a USD company), kept to RATE_DECIMALS decimals.
RATE_DECIMALS = 12
MAX_RATE = Decimal(10**9)


def exact_rate(value: Decimal) -> Decimal:
    """`value` rounded half to even to RATE_DECIMALS decimals, without trailing zeros:
    a rate derived by division (1 / 1.1512) as it is stored and shown."""
    rounded = value.quantize(Decimal(1).scaleb(-RATE_DECIMALS), rounding=ROUND_HALF_EVEN)
    if rounded == rounded.to_integral_value():
        return rounded.quantize(Decimal(1))
    return rounded.normalize()
