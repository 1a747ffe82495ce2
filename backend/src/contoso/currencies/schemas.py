import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema

from contoso.currency_codes import (
    CURRENCIES_IN_USE,
    MAX_RATE,
    RATE_DECIMALS,
    is_currency,
    unknown_currency,
)
from contoso.validation import DATE_FROM_2000, decimal_pattern, not_in_future

# The codes in use, in any case: an enum that also says "eur" is EUR. (JSON Schema's
# `enum` is case-sensitive, and the API has always taken codes in any case.)
CURRENCY_PATTERN = (
    "^(?:"
    + "|".join(
        "".join(f"[{letter}{letter.lower()}]" for letter in code)
        for code in sorted(CURRENCIES_IN_USE)
    )
    + ")$"
)


def _currency(code: str) -> str:
    code = code.upper()
    if not is_currency(code):
        raise ValueError(unknown_currency(code))
    return code


# An ISO 4217 code in use today, in any case ("eur" is EUR).
Currency = Annotated[
    str,
    Field(
        min_length=3,
        max_length=3,
        json_schema_extra={"pattern": CURRENCY_PATTERN, "examples": ["EUR"]},
        description="The ISO 4217 code of a currency in use today, in any case (EUR, eur): "
        + ", ".join(sorted(CURRENCIES_IN_USE))
        + ". Others, such as withdrawn currencies (DEM) and metals (XAU), are refused.",
    ),
    AfterValidator(_currency),
]

# Any decimal digits, for readable messages; RATE_PATTERN is exactly what is accepted.
_DIGITS_RE = re.compile(f"^[0-9]{{1,10}}(?:\\.[0-9]{{1,{RATE_DECIMALS}}})?$")
RATE_PATTERN = decimal_pattern(MAX_RATE, RATE_DECIMALS)
_RATE_RE = re.compile(RATE_PATTERN)
_RATE_HELP = (
    f"a positive number with at most {RATE_DECIMALS} decimals, at most {MAX_RATE}, e.g. " '"1.1512"'
)


def _rate(value: object) -> Decimal:
    text = value
    if isinstance(value, float):
        # As the JSON wrote it: str() gives small numbers an exponent (IDR's 5.9688832e-05).
        text = format(Decimal(repr(value)), "f")
    elif isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    if not isinstance(text, str) or not _DIGITS_RE.fullmatch(text):
        raise ValueError(f"The rate must be {_RATE_HELP}")
    try:
        rate = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits decimals only
        raise ValueError(f"The rate must be {_RATE_HELP}") from exc
    if rate <= 0:
        raise ValueError("The rate must be greater than 0")
    if rate > MAX_RATE:
        raise ValueError(f"The rate must be at most {MAX_RATE}")
    if not _RATE_RE.fullmatch(text):  # "007", "1.000000000000": in bounds, not as written
        raise ValueError(f"The rate must be {_RATE_HELP}, without leading zeros")
    return rate


Rate = Annotated[
    Decimal,
    PlainValidator(_rate),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0, "maximum": int(MAX_RATE)},
                {"type": "string", "pattern": RATE_PATTERN},
            ],
            "description": "How many units of the company's currency one unit of the "
            f"currency buys: {_RATE_HELP}; greater than 0. As a JSON number, one with more "
            f"than {RATE_DECIMALS} decimals is refused (422): send text.",
            "examples": ["1.1512"],
        },
        mode="validation",
    ),
]


class ExchangeRateCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"currency": "EUR", "rate": "1.1512", "valid_from": "2026-11-20"}]
        },
    )

    currency: Currency
    rate: Rate
    # The first day the rate applies to: purchases on or after it, until the next rate.
    valid_from: Annotated[
        date, AfterValidator(not_in_future("The first day of the rate")), DATE_FROM_2000
    ]


class RecordedBy(BaseModel):
    id: int
    username: str


class ExchangeRateRead(BaseModel):
    id: int
    currency: str
    # Units of `company_currency` per unit of `currency`.
    rate: Decimal
    company_currency: str
    valid_from: date
    created_at: datetime
    # Null for rates loaded with `contoso import-rates`.
    created_by: RecordedBy | None


class ExchangeRatePage(BaseModel):
    items: list[ExchangeRateRead]
    total: int
    limit: int
    offset: int


class RateImport(BaseModel):
    """What an import of a rates file did."""

    added: int
    # Already recorded with the same rate.
    unchanged: int
