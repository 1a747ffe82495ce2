from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from contoso.tickets.schemas import Person
from contoso.tickets.workflow import Skip
from contoso.validation import MAX_SELECTION, RecordId, StrictInput, TextRules

MAX_REFERENCE = 140

Reference = Annotated[
    str, TextRules(MAX_REFERENCE, multiline=False, required=False, what="The reference")
]


class PaymentCreate(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"ticket_ids": [1, 2, 3], "reference": "SEPA 2026-11-28 run 14"}]
        }
    )

    ticket_ids: Annotated[list[RecordId], Field(min_length=1, max_length=MAX_SELECTION)]
    # The bank transfer's or accounting entry's reference; generated when blank.
    reference: Reference = ""


class PaymentSkip(StrEnum):
    """Why a payment left a ticket out: the reasons (`workflow.Skip`) paying gives."""

    NOT_FOUND = Skip.NOT_FOUND.value
    OWN_TICKET = Skip.OWN_TICKET.value
    NOT_APPROVED = Skip.NOT_APPROVED.value
    ALREADY_PAID = Skip.ALREADY_PAID.value

    @property
    def label(self) -> str:
        return Skip(self).label


class PaymentSkipped(BaseModel):
    id: int
    reason: PaymentSkip


class EmployeePaid(BaseModel):
    """One employee's share of a payment: what the bank transfers to them."""

    id: int
    username: str
    email: str
    # In the company's currency.
    amount: Decimal
    tickets: list[int]


class PaymentSummary(BaseModel):
    id: int
    reference: str
    created_at: datetime
    created_by: Person
    # The number of tickets paid, and their sum in `currency`, the company's.
    tickets: int
    total: Decimal
    currency: str


class PaymentRead(PaymentSummary):
    paid: list[int]
    employees: list[EmployeePaid]


class PaymentReport(PaymentRead):
    """A new payment: what it paid, and what it left out and why."""

    skipped: list[PaymentSkipped]


class PaymentPreview(BaseModel):
    """What paying a selection now would pay, per employee, and leave out, and why."""

    employees: list[EmployeePaid]
    skipped: list[PaymentSkipped]

    @property
    def tickets(self) -> int:
        return sum(len(employee.tickets) for employee in self.employees)

    @property
    def total(self) -> Decimal:
        return sum((employee.amount for employee in self.employees), Decimal("0.00"))


class PaymentPage(BaseModel):
    items: list[PaymentSummary]
    total: int
    limit: int
    offset: int


class Money(BaseModel):
    tickets: int
    # In `currency`, the company's.
    amount: Decimal
    currency: str


class Reimbursement(BaseModel):
    """What the company owes an employee (approved, not yet paid) and has paid them
    this calendar year (in TIMEZONE)."""

    owed: Money
    paid_this_year: Money
