import unicodedata
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from contoso.models import TicketStatus

MAX_AMOUNT = Decimal("1000000.00")
CENTS = Decimal("0.01")
MAX_LINKS = 10
MAX_LINK_LENGTH = 2048
MAX_DESCRIPTION = 2000
MAX_NOTE = 1000
EARLIEST_SPENT_ON = date(2000, 1, 1)
MAX_BULK = 10_000
# The date is "today" somewhere on Earth until it is today in UTC+14, so a
# purchase dated today in Kiribati is not "in the future" for a UTC server.
EARLIEST_TIMEZONE = timezone(timedelta(hours=14))


def _not_in_future(day: date) -> date:
    if day > datetime.now(EARLIEST_TIMEZONE).date():
        raise ValueError("The purchase date cannot be in the future")
    if day < EARLIEST_SPENT_ON:
        raise ValueError(f"The purchase date must be on or after {EARLIEST_SPENT_ON}")
    return day


def _web_link(link: str) -> str:
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("Links must be http:// or https:// web addresses")
    if any(char.isspace() or not char.isprintable() for char in link):
        raise ValueError("Links must not contain spaces or control characters")
    return link


def _printable_text(text: str) -> str:
    # Control characters (NUL, bell, escapes) are refused; line breaks, tabs and
    # format characters such as the zero-width joiner inside emoji are kept.
    if any(unicodedata.category(char) == "Cc" and char not in "\n\t\r" for char in text):
        raise ValueError("Text must not contain control characters")
    return text


SpentOn = Annotated[date, AfterValidator(_not_in_future)]
Amount = Annotated[
    Decimal,
    Field(
        gt=0,
        le=MAX_AMOUNT,
        decimal_places=2,
        description=f'Positive, at most 2 decimals, at most {MAX_AMOUNT}; e.g. "12.50"',
    ),
    # Always two places, as NUMERIC(12,2) stores it: "12.5" reads back as "12.50".
    AfterValidator(lambda amount: amount.quantize(CENTS)),
]
Description = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_DESCRIPTION),
    AfterValidator(_printable_text),
]
Link = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_LINK_LENGTH),
    AfterValidator(_web_link),
]
Links = Annotated[list[Link], Field(max_length=MAX_LINKS)]
Note = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_NOTE),
    AfterValidator(_printable_text),
]


class Strict(BaseModel):
    # Unknown fields (owner, status, decided_by...) are refused, never applied.
    model_config = ConfigDict(extra="forbid")


class TicketCreate(Strict):
    spent_on: SpentOn
    amount: Amount
    description: Description
    links: Links = []


class TicketUpdate(Strict):
    """Fields to change on a pending ticket; omitted fields keep their value."""

    spent_on: SpentOn | None = None
    amount: Amount | None = None
    description: Description | None = None
    links: Links | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> "TicketUpdate":
        # Omitting a field keeps it; sending null would blank a required field.
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; omit it to keep the current value")
        return self


class Decision(Strict):
    note: Note | None = None


class BulkDecision(Strict):
    ticket_ids: Annotated[list[int], Field(min_length=1, max_length=MAX_BULK)]
    decision: Literal["approve", "deny"]
    note: Note | None = None


class Person(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str


class Owner(Person):
    email: str


class TicketRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    owner: Owner
    spent_on: date
    amount: Decimal
    description: str
    links: list[str]
    status: TicketStatus
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None
    decided_by: Person | None
    decision_note: str | None


class TicketPage(BaseModel):
    items: list[TicketRead]
    total: int
    limit: int
    offset: int


class Skipped(BaseModel):
    id: int
    reason: Literal["not_found", "already_decided"]


class DecisionReport(BaseModel):
    decided: list[int]
    skipped: list[Skipped]


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    actor: Person
    note: str | None
    changes: dict[str, list[object]] | None
    created_at: datetime
