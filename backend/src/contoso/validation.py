"""Text and money rules shared by the schemas, written so the OpenAPI schema says
exactly what the validators enforce (the fuzzer holds us to that)."""

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Annotated

from annotated_types import GroupedMetadata
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema

from contoso.currency_codes import MAX_MINOR_UNITS

# Ids are PostgreSQL bigints: anything outside 1..MAX_RECORD_ID cannot name a record.
MAX_RECORD_ID = 2**63 - 1
RecordId = Annotated[int, Field(ge=1, le=MAX_RECORD_ID)]
# The most records one bulk action (API or console) may name.
MAX_SELECTION = 10_000

_SMALLEST = Decimal(1).scaleb(-MAX_MINOR_UNITS)

# Control characters, except tab and line breaks in multi-line text.
_CONTROL_INLINE = "\\x00-\\x1f\\x7f-\\x9f"
_CONTROL_MULTILINE = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f"
_CONTROL = re.compile(f"[{_CONTROL_INLINE}]")
# Text-direction embeddings, overrides and isolates (U+202A-202E, U+2066-2069): they make
# stored text display as something else ("https://\u202emoc.elgoog\u202c.evil.example"
# reads "...google.com..."), and right-to-left text needs none of them (the Unicode bidi
# algorithm lays it out; the marks U+200E and U+200F stay allowed).
_DIRECTION_CONTROLS = "\\u202a-\\u202e\\u2066-\\u2069"
_DIRECTION_CONTROL = re.compile(f"[{_DIRECTION_CONTROLS}]")
DIRECTION_CONTROLS_REFUSED = (
    "must not contain text-direction controls (U+202A to U+202E, U+2066 to U+2069), "
    "which can make text display as something else: remove them"
)
# Unicode's line and paragraph separators: line breaks, in one-line text refused.
_SEPARATORS = "\\u2028\\u2029"
_SEPARATOR = re.compile(f"[{_SEPARATORS}]")

# Characters drawn as nothing: zero-width spaces and joiners, text-direction marks,
# embeddings, overrides and isolates, fillers, variation selectors, the byte order mark.
_INVISIBLE = (
    "\\u00ad\\u034f\\u061c\\u115f\\u1160\\u17b4\\u17b5\\u180b-\\u180f\\u200b-\\u200f"
    "\\u202a-\\u202e\\u2060-\\u206f\\u2800\\u3164\\ufe00-\\ufe0f\\ufeff\\uffa0"
)


class StrictInput(BaseModel):
    """What a client sends: unknown fields are refused, never applied, so nothing can
    smuggle an owner, a status or a role into a request."""

    model_config = ConfigDict(extra="forbid")


def _visible(control: str) -> str:
    return f"[^{control}]*[^\\s{control}{_INVISIBLE}][^{control}]*"


@dataclass(frozen=True)
class TextRules(GroupedMetadata):
    """`Annotated[str, TextRules(...)]`: a string of at most `max_length` characters as
    sent, with no control characters, no text-direction controls (embeddings, overrides,
    isolates) and with a visible character: not only invisible or text-direction
    characters, nor blank unless not `required`. One-line text (not `multiline`) refuses
    the line and paragraph separators U+2028 and U+2029; multi-line text stores them as
    the line breaks they are ("\\n"). Stored without surrounding whitespace."""

    max_length: int
    multiline: bool = True
    required: bool = True
    what: str = "Text"

    def __iter__(self) -> Iterator[object]:
        # Refused anywhere in the text, with the visible character the pattern asks for.
        refused = _CONTROL_MULTILINE if self.multiline else _CONTROL_INLINE + _SEPARATORS
        refused += _DIRECTION_CONTROLS
        # Optional text may be left blank; text that is there must show something.
        blank = "" if self.required else f"[^\\S{refused}]*|"
        pattern = f"^(?:{blank}{_visible(refused)})$"
        control = _CONTROL_MULTILINE if self.multiline else _CONTROL_INLINE
        compiled, controls = re.compile(pattern), re.compile(f"[{control}]")
        shows = re.compile(f"[^\\s{control}{_INVISIBLE}]")
        multiline, required, what = self.multiline, self.required, self.what

        def check(value: str) -> str:
            if not compiled.fullmatch(value):
                if required and not value.strip():
                    raise ValueError(f"{what} must not be blank")
                if controls.search(value):
                    raise ValueError(f"{what} must not contain control characters")
                if value.strip() and not shows.search(value):
                    raise ValueError(
                        f"{what} must contain a visible character, not only invisible or "
                        "text-direction characters"
                    )
                if _DIRECTION_CONTROL.search(value):
                    raise ValueError(f"{what} {DIRECTION_CONTROLS_REFUSED}")
                if not multiline and _SEPARATOR.search(value):
                    raise ValueError(
                        f"{what} must be on one line: remove the line or paragraph "
                        "separator (U+2028, U+2029)"
                    )
                raise ValueError(  # pragma: no cover - the checks above name every way
                    f"{what} must contain a visible character, not only invisible or "
                    "text-direction characters"
                )
            # Same length: `max_length` above still holds.
            return _SEPARATOR.sub("\n", value).strip() if multiline else value.strip()

        # The pattern is documented here and checked in `check`, with a readable message.
        yield Field(
            min_length=1 if required else 0,
            max_length=self.max_length,
            json_schema_extra={"pattern": pattern},
        )
        yield AfterValidator(check)


EARLIEST_DATE = date(2000, 1, 1)
# The schema's half of `not_in_future`: a date in the year 2000 or later ("today" is
# stated in words, as the schema cannot know it).
DATE_FROM_2000 = WithJsonSchema(
    {
        "type": "string",
        "format": "date",
        "pattern": "^[2-9][0-9]{3}-",
        "description": "A date (YYYY-MM-DD) from 2000-01-01 to today (in UTC+14, where "
        "the day comes first); a later one is refused (422).",
    },
    mode="validation",
)
# The date is "today" somewhere on Earth until it is today in UTC+14, so a
# purchase dated today in Kiribati is not "in the future" for a UTC server.
EARLIEST_TIMEZONE = timezone(timedelta(hours=14))


def not_in_future(what: str) -> Callable[[date], date]:
    """A check that a date (`what`, for messages) is a day that has come somewhere,
    and not before EARLIEST_DATE."""

    def check(day: date) -> date:
        if day > datetime.now(EARLIEST_TIMEZONE).date():
            raise ValueError(f"{what} cannot be in the future")
        if day < EARLIEST_DATE:
            raise ValueError(f"{what} must be on or after {EARLIEST_DATE}")
        return day

    return check


def search_text(term: str) -> str:
    """A search as typed; ValueError if it holds control characters (PostgreSQL cannot
    take NUL in text, and none of them can be in what is searched)."""
    if _CONTROL.search(term):
        raise ValueError("Search text cannot contain control characters.")
    return term


# Python's json module reads NaN, Infinity, numbers beyond a double's range (as infinity)
# and "\\udfff" escapes (half of a surrogate pair, which is not text); a form may declare
# a charset that decodes to such halves. None of them can be stored or written back.
FINITE_NUMBERS_ONLY = (
    "Numbers must be finite: NaN, Infinity and numbers too large to hold (such as 1e309) "
    "are not accepted"
)
UNICODE_TEXT_ONLY = (
    "Text must be valid Unicode: half of a surrogate pair (\\ud800 to \\udfff) on its own "
    "is not text"
)
NO_NUL_TEXT = "Text cannot contain NUL characters"
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def unreadable(value: object) -> str | None:
    """Why `value` (parsed JSON, form fields, an error that echoes them) can be neither
    stored nor written back as JSON: FINITE_NUMBERS_ONLY or UNICODE_TEXT_ONLY; None if
    it can. (A str holds a surrogate only as a lone half: pairs decode to one character.)"""
    pending = [value]
    while pending:  # a loop, not recursion: the nesting depth is the client's choice
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return UNICODE_TEXT_ONLY
        elif isinstance(item, float):
            if not math.isfinite(item):
                return FINITE_NUMBERS_ONLY
        elif isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list | tuple):
            pending += item
    return None


# Neither spaces (U+2028 and U+2029 among them), control characters nor text-direction
# controls: an address must display as the one it opens.
_NOT_IN_LINKS = f"\\s\\x00-\\x1f\\x7f-\\x9f{_DIRECTION_CONTROLS}"
LINK_PATTERN = f"^https?://[^{_NOT_IN_LINKS}/?#]+(?:[/?#][^{_NOT_IN_LINKS}]*)?$"
_LINK_RE = re.compile(LINK_PATTERN)


def _web_link(link: str) -> str:
    if _DIRECTION_CONTROL.search(link):
        raise ValueError(f"Links {DIRECTION_CONTROLS_REFUSED}")
    if not _LINK_RE.fullmatch(link):
        raise ValueError(
            "Links must be http:// or https:// web addresses, without spaces or control characters"
        )
    return link


Link = Annotated[
    str,
    Field(min_length=1, max_length=2048, json_schema_extra={"pattern": LINK_PATTERN}),
    AfterValidator(_web_link),
]


def _whole_up_to(highest: int) -> str:
    """A regex for the whole numbers 1..`highest`, written without leading zeros."""
    digits = str(highest)
    options = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    for place, digit in enumerate(digits):
        lowest = 1 if place == 0 else 0
        if int(digit) > lowest:
            rest = len(digits) - place - 1
            tail = f"[0-9]{{{rest}}}" if rest else ""
            options.append(f"{digits[:place]}[{lowest}-{int(digit) - 1}]{tail}")
    options.append(digits)
    return "|".join(options)


def decimal_pattern(maximum: Decimal, decimals: int, *, zero: bool = False) -> str:
    """The regex of the decimal numbers written as text that are greater than 0 (or 0
    as well, with `zero`) and at most `maximum` (a whole number), with at most
    `decimals` decimals and no leading zeros: exactly what `decimal_text` accepts, so
    the OpenAPI schema states the bounds a client must keep to."""
    fraction = f"(?:\\.[0-9]{{1,{decimals}}})?"
    zeros = f"(?:\\.0{{1,{decimals}}})?"
    top = int(maximum)
    options = [f"(?:{_whole_up_to(top - 1)}){fraction}"] if top > 1 else []
    options.append(f"{top}{zeros}")
    small = "|".join(
        "0" * lead + "[1-9]" + (f"[0-9]{{0,{decimals - lead - 1}}}" if lead < decimals - 1 else "")
        for lead in range(decimals)
    )
    options.append(f"0\\.(?:{small})")
    if zero:
        options.append(f"0{zeros}")
    return f"^(?:{'|'.join(options)})$"


AMOUNT_PATTERN = "^[0-9]{1,15}(?:\\.[0-9]{1,10})?$"
_AMOUNT_RE = re.compile(AMOUNT_PATTERN)
# The most one ticket may claim, and the highest policy limit, in the company's currency.
MAX_AMOUNT = Decimal("1000000")
# The most a ticket's amount may be in its own currency (a trillion: VND and IDR
# amounts run to many digits).
MAX_SPENT = Decimal("999999999999")
# Money as text, exactly: what each kind of amount accepts, and the schema says.
SPENT_PATTERN = decimal_pattern(MAX_SPENT, MAX_MINOR_UNITS)
LIMIT_PATTERN = decimal_pattern(MAX_AMOUNT, MAX_MINOR_UNITS)
LIMIT_OR_ZERO_PATTERN = decimal_pattern(MAX_AMOUNT, MAX_MINOR_UNITS, zero=True)
_AMOUNT_HELP = (
    'a positive amount, e.g. "12.50", with no more decimals than its currency has (two '
    "for most, none for JPY, three for KWD)"
)


_SPENT_RE = re.compile(SPENT_PATTERN)
_LIMIT_RE = re.compile(LIMIT_PATTERN)
_LIMIT_OR_ZERO_RE = re.compile(LIMIT_OR_ZERO_PATTERN)
_WRITTEN = (
    f"Amounts are written as digits with at most {MAX_MINOR_UNITS} decimals and no "
    'leading zeros, e.g. "12.50" or "0.50"'
)


def _amount_or_zero(value: object) -> Decimal:
    if isinstance(value, str):
        zero = bool(_AMOUNT_RE.fullmatch(value)) and Decimal(value) == 0
        if zero and not _LIMIT_OR_ZERO_RE.fullmatch(value):
            raise ValueError(_WRITTEN)
    else:
        zero = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
        zero = zero and value == 0
    return Decimal("0") if zero else _limit(value)


def _money(value: object, maximum: Decimal, exact: re.Pattern[str]) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"Amount must be {_AMOUNT_HELP}")
    if isinstance(value, str) and not _AMOUNT_RE.fullmatch(value):
        raise ValueError(f"Amount must be {_AMOUNT_HELP}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"Amount must be {_AMOUNT_HELP}") from exc
    if not amount.is_finite() or amount <= 0:
        raise ValueError("Amount must be greater than 0")
    if amount > maximum:
        raise ValueError(f"Amount must be at most {maximum}")
    if amount != amount.quantize(_SMALLEST):
        raise ValueError(f"Amount must have at most {MAX_MINOR_UNITS} decimal places")
    if isinstance(value, str) and not exact.fullmatch(value):
        raise ValueError(_WRITTEN)  # "007", "12.5000": in bounds, but not as the schema says
    # Without trailing zeros ("12.50" is 12.5): each currency's own decimals are checked
    # where the currency is known (`currencies.service`), which writes the amount with
    # exactly that many.
    return amount.quantize(_SMALLEST).normalize() if amount % 1 else amount.quantize(1)


def _amount(value: object) -> Decimal:
    return _money(value, MAX_SPENT, _SPENT_RE)


def _limit(value: object) -> Decimal:
    return _money(value, MAX_AMOUNT, _LIMIT_RE)


def _money_schema(
    lowest: dict[str, float], maximum: Decimal, pattern: str, description: str, example: str
) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", **lowest, "maximum": int(maximum)},
                {"type": "string", "pattern": pattern},
            ],
            "description": description,
            "examples": [example],
        },
        mode="validation",
    )


# What JSON Schema cannot say of a JSON number (a float has no exact decimals).
_AS_NUMBER = (
    "As text, the pattern states every rule but the currency's own decimals; as a JSON "
    "number, one with more decimals than the currency has is refused (422): send text."
)
# A ticket's amount, in the ticket's currency.
Amount = Annotated[
    Decimal,
    PlainValidator(_amount),
    _money_schema(
        {"exclusiveMinimum": 0},
        MAX_SPENT,
        SPENT_PATTERN,
        f"Money: {_AMOUNT_HELP}; greater than 0 and at most {MAX_SPENT}, and worth at most "
        f"{MAX_AMOUNT} in the company's currency at the purchase date's rate (else 422: "
        f"one ticket may claim no more). {_AS_NUMBER}",
        "12.50",
    ),
]
# A policy limit, in the company's currency.
LimitAmount = Annotated[
    Decimal,
    PlainValidator(_limit),
    _money_schema(
        {"exclusiveMinimum": 0},
        MAX_AMOUNT,
        LIMIT_PATTERN,
        f"Money in the company's currency: {_AMOUNT_HELP}; greater than 0 and at most "
        f"{MAX_AMOUNT}. {_AS_NUMBER}",
        "1500.00",
    ),
]
# A threshold that may be zero ("a receipt is required above 0.00": always).
LimitOrZero = Annotated[
    Decimal,
    PlainValidator(_amount_or_zero),
    _money_schema(
        {"minimum": 0},
        MAX_AMOUNT,
        LIMIT_OR_ZERO_PATTERN,
        f'Money in the company\'s currency, or 0: at most {MAX_AMOUNT}, e.g. "25.00". '
        f"{_AS_NUMBER}",
        "25.00",
    ),
]
