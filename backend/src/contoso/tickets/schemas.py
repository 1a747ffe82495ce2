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

from contoso.categories.schemas import CategoryRef
from contoso.models import EventKind, TicketFlag, TicketStatus
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
    # Omitted or null: the default category ("General").
    category_id: RecordId | None = None


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
    category_id: RecordId | None = None

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
    # Approving skips flagged tickets (reason `flagged`) unless this is true.
    include_flagged: bool = False


class Person(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str


class TicketOwner(Person):
    email: str


class ReceiptSummary(BaseModel):
    """A receipt as a ticket lists it; its file is at
    `/api/tickets/{ticket_id}/receipts/{id}`."""

    id: int
    filename: str
    content_type: str
    size: int


class ReceiptRead(ReceiptSummary):
    sha256: str
    uploaded_at: datetime


class PaymentRef(BaseModel):
    """The payment batch a paid ticket went out in."""

    id: int
    reference: str


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
    category: CategoryRef
    # What an employer should look at before approving; `duplicate_of` names the
    # owner's tickets this one may duplicate (for `possible_duplicate`).
    flags: list[TicketFlag]
    duplicate_of: list[int]
    receipts: list[ReceiptSummary]
    status: TicketStatus
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None
    decided_by: Person | None
    decision_note: str | None
    # Once reimbursed (status `paid`): when, by whom, in which payment batch.
    paid_at: datetime | None
    paid_by: Person | None
    payment: PaymentRef | None

    @classmethod
    def from_row(cls, row: RowMapping) -> "TicketRead":
        """Shape a `ticket_columns` row: the ticket's own columns keep their names;
        the owner, the decider, the category, the payer and the payment are nested."""
        return cls.model_validate(
            {
                **row,
                "owner": {
                    "id": row["owner_id"],
                    "username": row["owner_username"],
                    "email": row["owner_email"],
                },
                "decided_by": _person(row["decided_by_id"], row["decided_by_username"]),
                "category": {"id": row["category_id"], "name": row["category_name"]},
                "paid_by": _person(row["paid_by_id"], row["paid_by_username"]),
                "payment": (
                    None
                    if row["payment_id"] is None
                    else {"id": row["payment_id"], "reference": row["payment_reference"]}
                ),
            }
        )


def _person(person_id: int | None, username: str | None) -> dict[str, object] | None:
    return None if person_id is None else {"id": person_id, "username": username}


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
    # Approving in bulk leaves flagged tickets alone unless asked (`include_flagged`).
    FLAGGED = "flagged"

    @property
    def label(self) -> str:
        return {
            "not_found": "not found or hidden",
            "already_decided": "already decided",
            "flagged": "flagged (approve it on its own, or include flagged tickets)",
        }[self]


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
