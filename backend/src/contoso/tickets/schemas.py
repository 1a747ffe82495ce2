from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)
from sqlalchemy import RowMapping

from contoso.models import EventKind, TicketStatus
from contoso.validation import MAX_SELECTION, Amount, Link, RecordId, TextRules

MAX_LINKS = 10
MAX_DESCRIPTION = 2000
MAX_NOTE = 1000
EARLIEST_SPENT_ON = date(2000, 1, 1)
# The date is "today" somewhere on Earth until it is today in UTC+14, so a
# purchase dated today in Kiribati is not "in the future" for a UTC server.
EARLIEST_TIMEZONE = timezone(timedelta(hours=14))


def _not_in_future(day: date) -> date:
    if day > datetime.now(EARLIEST_TIMEZONE).date():
        raise ValueError("The purchase date cannot be in the future")
    if day < EARLIEST_SPENT_ON:
        raise ValueError(f"The purchase date must be on or after {EARLIEST_SPENT_ON}")
    return day


SpentOn = Annotated[date, AfterValidator(_not_in_future)]
Description = Annotated[str, TextRules(MAX_DESCRIPTION, what="The description")]
Links = Annotated[list[Link], Field(max_length=MAX_LINKS)]
Note = Annotated[str, TextRules(MAX_NOTE, required=False, what="The note")]


class Strict(BaseModel):
    # Unknown fields (owner, status, decided_by...) are refused, never applied.
    model_config = ConfigDict(extra="forbid")


class TicketCreate(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "spent_on": "2026-01-15",
                    "amount": "42.50",
                    "description": "Taxi from the airport to the client's office",
                    "links": ["https://receipts.example.com/r/8841"],
                }
            ]
        }
    )

    spent_on: SpentOn
    amount: Amount
    description: Description
    links: Links = []


class TicketUpdate(Strict):
    """Fields to change on a pending ticket; omitted fields keep their value."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "amount": "38.20",
                    "links": [
                        "https://receipts.example.com/r/8841",
                        "https://receipts.example.com/r/8842",
                    ],
                }
            ]
        }
    )

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
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "Please attach the itemised receipt"}]}
    )

    note: Note | None = None


class BulkDecision(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ticket_ids": [1, 2, 3],
                    "decision": "deny",
                    "note": "Please attach the itemised receipts",
                }
            ]
        }
    )

    ticket_ids: Annotated[list[RecordId], Field(min_length=1, max_length=MAX_SELECTION)]
    decision: Literal["approve", "deny"]
    note: Note | None = None


class Person(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str


class TicketOwner(Person):
    email: str


class TicketRead(BaseModel):
    """A ticket as every door shows it: the API, the pages, the console and the CLI.

    Built only by `from_row`, from a row of `tickets.queries.ticket_columns`.
    """

    id: int
    owner: TicketOwner
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

    @classmethod
    def from_row(cls, row: RowMapping) -> "TicketRead":
        """Shape a `ticket_columns` row: the ticket's own columns keep their names,
        the owner's and the decider's are nested."""
        decider_id = row["decided_by_id"]
        return cls.model_validate(
            {
                **row,
                "owner": {
                    "id": row["owner_id"],
                    "username": row["owner_username"],
                    "email": row["owner_email"],
                },
                "decided_by": (
                    None
                    if decider_id is None
                    else {"id": decider_id, "username": row["decided_by_username"]}
                ),
            }
        )


class TicketPage(BaseModel):
    items: list[TicketRead]
    total: int
    # True when `total` is the database's estimate (employer lists over 50,000 tickets).
    total_is_estimate: bool = False
    limit: int
    offset: int


class TicketSkip(StrEnum):
    """Why a bulk decision left a ticket alone."""

    NOT_FOUND = "not_found"
    ALREADY_DECIDED = "already_decided"

    @property
    def label(self) -> str:
        return {"not_found": "not found or hidden", "already_decided": "already decided"}[self]


class Skipped(BaseModel):
    id: int
    reason: TicketSkip


class DecisionReport(BaseModel):
    decided: list[int]
    skipped: list[Skipped]


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: EventKind
    actor: Person
    note: str | None
    changes: dict[str, list[object]] | None
    created_at: datetime
