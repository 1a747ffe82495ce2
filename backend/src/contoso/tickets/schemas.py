from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StrictBool,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy import RowMapping

from contoso.categories.schemas import CategoryRef
from contoso.currencies.schemas import Currency
from contoso.currency_codes import in_minor_units, minor_units_rule
from contoso.models import EventKind, TicketFlag, TicketStatus
from contoso.tickets.workflow import TRANSITIONS, Actor, Skip
from contoso.validation import (
    DATE_FROM_2000,
    MAX_SELECTION,
    Amount,
    Link,
    RecordId,
    StrictInput,
    TextRules,
    not_in_future,
)

MAX_LINKS = 10
MAX_DESCRIPTION = 2000
MAX_NOTE = 1000
SpentOn = Annotated[date, AfterValidator(not_in_future("The purchase date")), DATE_FROM_2000]
Description = Annotated[str, TextRules(MAX_DESCRIPTION, what="The description")]
Links = Annotated[list[Link], Field(max_length=MAX_LINKS)]
Note = Annotated[str, TextRules(MAX_NOTE, required=False, what="The note")]
RequiredNote = Annotated[str, TextRules(MAX_NOTE, what="The note")]


def _in_currency(amount: Decimal | None, info: ValidationInfo) -> Decimal | None:
    """An amount with no more decimals than its currency, when the currency is named
    (validated before the amount); the company's is checked where it is known."""
    currency = info.data.get("currency")
    if amount is not None and currency and not in_minor_units(amount, currency):
        raise ValueError(minor_units_rule(currency))
    return amount


class TicketCreate(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "spent_on": "2026-01-15",
                    "amount": "42.50",
                    "description": "Taxi from the airport to the client's office",
                    "links": ["https://receipts.example.com/r/8841"],
                },
                {
                    "spent_on": "2026-01-16",
                    "amount": "3400",
                    "currency": "JPY",
                    "description": "Taxi from Haneda to the hotel",
                },
            ]
        }
    )

    spent_on: SpentOn
    # Omitted or null: the company's currency.
    currency: Currency | None = None
    # In `currency`, with no more decimals than it has (USD 12.50, JPY 1500).
    amount: Amount
    description: Description
    links: Links = []  # noqa: RUF012 - pydantic copies a default per instance
    # Omitted or null: the default category ("General").
    category_id: RecordId | None = None

    _amount_in_currency = field_validator("amount")(_in_currency)


class TicketUpdate(StrictInput):
    """Fields to change on a pending ticket; omitted fields keep their value. No field
    may be null (422): omit it instead. (Every PATCH of the API reads null as "no
    value", never as "keep": a field that cannot be empty cannot be null.)"""

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

    # Null is accepted by the model only to be refused by `_no_nulls` with a message
    # that says to omit the field; the schema does not offer it.
    spent_on: SpentOn | SkipJsonSchema[None] = None
    currency: Currency | SkipJsonSchema[None] = None
    amount: Amount | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    links: Links | SkipJsonSchema[None] = None
    category_id: RecordId | SkipJsonSchema[None] = None

    _amount_in_currency = field_validator("amount")(_in_currency)

    @model_validator(mode="after")
    def _no_nulls(self) -> "TicketUpdate":
        # Omitting a field keeps it; sending null would blank a required field.
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; omit it to keep the current value")
        return self


class Decision(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "Please attach the itemised receipt"}]}
    )

    note: Note | None = None


class ChangesRequest(StrictInput):
    """What the owner should change; they see it, and it is emailed to them."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "Please attach the hotel's itemised receipt"}]}
    )

    note: RequiredNote


# What an employer may do to many tickets at once (`POST /tickets/decisions`): every
# transition of theirs that the generic doors run, by name.
BULK = [t for t in TRANSITIONS.values() if t.by is Actor.EMPLOYER and not t.own_door]
# Those that need a note, as a JSON schema of the `decision`.
_NOTE_NEEDED: list[JsonValue] = [t.name for t in BULK if t.asks is not None]
_ASKING: dict[str, JsonValue] = (
    {"const": _NOTE_NEEDED[0]} if len(_NOTE_NEEDED) == 1 else {"enum": _NOTE_NEEDED}
)

if TYPE_CHECKING:
    BulkName = str
else:
    BulkName = Literal[tuple(t.name for t in BULK)]


class BulkDecision(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            # `_note_when_asked`, stated for clients: requesting changes needs a note
            # with something to read in it.
            "if": {"properties": {"decision": _ASKING}},
            "then": {
                "required": ["note"],
                "properties": {"note": TypeAdapter(RequiredNote).json_schema()},
            },
            "examples": [
                {
                    "ticket_ids": [1, 2, 3],
                    "decision": "deny",
                    "note": "Please attach the itemised receipts",
                }
            ],
        }
    )

    ticket_ids: Annotated[list[RecordId], Field(min_length=1, max_length=MAX_SELECTION)]
    # A transition's name (`BULK`): `request_changes` sends the tickets back to their
    # owners, with the note (required).
    decision: BulkName
    note: Note | None = None
    # Approving skips flagged tickets (reason `flagged`) unless this is true.
    include_flagged: StrictBool = False

    @model_validator(mode="after")
    def _note_when_asked(self) -> "BulkDecision":
        transition = TRANSITIONS[self.decision]
        if transition.asks is not None and not self.note:
            raise ValueError(transition.asks.refusal(transition.doing))
        return self


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


def in_words(name: str, _: object = None) -> str:
    """A field's name as a label: `spent_on` as `Spent on`."""
    return name.replace("_", " ").capitalize()


class TicketRead(BaseModel):
    """A ticket as every door shows it: the API, the pages, the console and the CLI.

    Built only by `from_row`, from a row of `tickets.queries.ticket_columns`. Each
    field's title is its label at every door (`tickets.fields`): its name in words
    unless it says otherwise.
    """

    model_config = ConfigDict(field_title_generator=in_words)

    id: Annotated[int, Field(title="Ticket")]
    owner: Annotated[TicketOwner, Field(title="Employee")]
    spent_on: date
    # As spent, in `currency` with its decimals.
    amount: Decimal
    currency: str
    # In the company's currency: what limits, totals and payments count. Converted at
    # `exchange_rate` (company units per unit of `currency`; 1 in the company's own),
    # the rate valid from `rate_date` (null in the company's own currency), fixed when
    # the ticket was filed or its amount, currency or date last edited.
    company_amount: Annotated[Decimal, Field(title="Amount in the company's currency")]
    exchange_rate: Decimal
    rate_date: Annotated[date | None, Field(title="Rate valid from")]
    description: str
    links: list[str]
    category: CategoryRef
    # What an employer should look at before approving; `duplicate_of` names the
    # owner's tickets this one may duplicate (for `possible_duplicate`).
    flags: list[TicketFlag]
    duplicate_of: list[int]
    receipts: list[ReceiptSummary]
    status: TicketStatus
    created_at: Annotated[datetime, Field(title="Filed at")]
    updated_at: datetime
    decided_at: datetime | None
    decided_by: Person | None
    decision_note: Annotated[str | None, Field(title="Note")]
    # The latest request for changes (status `changes_requested` until the owner
    # resubmits; kept after that, and every round is in the history).
    changes_requested_at: datetime | None
    changes_requested_by: Person | None
    changes_note: str | None
    # Once reimbursed (status `paid`): when, by whom, in which payment batch.
    paid_at: datetime | None
    paid_by: Person | None
    payment: PaymentRef | None

    @classmethod
    def from_row(cls, row: RowMapping) -> "TicketRead":
        """Shape a `ticket_columns` row: each nested object (`NESTED`) from its
        `<field>__<its field>` columns, absent when its id is null; every other field
        from the column of its own name."""
        shaped = {name: row[name] for name in _FLAT}
        for name, fields in _NESTED_FIELDS.items():
            inner = {field: row[f"{name}__{field}"] for field in fields}
            shaped[name] = None if inner["id"] is None else inner
        return cls.model_validate(shaped)


def nested_models(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """`model`'s fields that hold one other model (or none): a ticket's owner, category,
    deciders and payment, as opposed to its own values and lists."""
    nested = {}
    for name, field in model.model_fields.items():
        inner = [
            arg
            for arg in (get_args(field.annotation) or (field.annotation,))
            if isinstance(arg, type) and issubclass(arg, BaseModel)
        ]
        if inner and get_origin(field.annotation) is not list:
            nested[name] = inner[0]
    return nested


NESTED = nested_models(TicketRead)
_NESTED_FIELDS = {name: list(model.model_fields) for name, model in NESTED.items()}
_FLAT = [name for name in TicketRead.model_fields if name not in NESTED]


class TicketPage(BaseModel):
    items: list[TicketRead]
    total: int
    # True when `total` is the database's estimate (employer lists over 50,000 tickets).
    total_is_estimate: bool = False
    limit: int
    offset: int


_BULK_SKIPS = {Skip.NOT_FOUND, Skip.OWN_TICKET} | {
    r.skip for t in BULK for r in t.refusals.values()
}

if TYPE_CHECKING:
    TicketSkip = Skip
else:
    # The reasons the bulk transitions give, in `Skip`'s order.
    TicketSkip = StrEnum("TicketSkip", [(s.name, s.value) for s in Skip if s in _BULK_SKIPS])
    TicketSkip.__module__ = __name__
    TicketSkip.__doc__ = (
        "Why a bulk decision left a ticket alone: the reasons (`workflow.Skip`) that\n"
        "approving, denying and requesting changes give."
    )


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
