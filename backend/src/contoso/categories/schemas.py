from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator
from pydantic.json_schema import SkipJsonSchema

from contoso.validation import LimitAmount, LimitOrZero, TextRules

MAX_NAME = 64
MAX_DESCRIPTION = 500

Name = Annotated[str, TextRules(MAX_NAME, multiline=False, what="The name")]
Description = Annotated[str, TextRules(MAX_DESCRIPTION, required=False, what="The description")]


class CategoryRef(BaseModel):
    """A ticket's category, as a ticket shows it."""

    id: int
    name: str


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    active: bool
    # The category of tickets filed without one; it cannot be deactivated.
    is_default: bool
    # Tickets above it are flagged `over_limit`; null: no limit.
    max_amount: Decimal | None
    # Tickets above it without a receipt are flagged `receipt_missing`; null: never.
    receipt_required_above: Decimal | None
    created_at: datetime
    updated_at: datetime


class CategoryCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Travel",
                    "description": "Flights, trains, taxis and hotels",
                    "max_amount": "1500.00",
                    "receipt_required_above": "25.00",
                }
            ]
        },
    )

    name: Name
    description: Description = ""
    max_amount: LimitAmount | None = None
    receipt_required_above: LimitOrZero | None = None
    active: StrictBool = True


class CategoryUpdate(BaseModel):
    """Fields to change; omitted fields keep their value. `max_amount` and
    `receipt_required_above` may be null: no limit, no receipt required. The other
    fields cannot be null (422): omit them to keep their value."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"max_amount": "2000.00"}, {"active": False}]},
    )

    # Null is accepted by the model only to be refused by `_no_nulls` with a message
    # that says to omit the field; the schema does not offer it.
    name: Name | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    max_amount: LimitAmount | None = None
    receipt_required_above: LimitOrZero | None = None
    active: StrictBool | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _no_nulls(self) -> "CategoryUpdate":
        for name in self.model_fields_set & {"name", "description", "active"}:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; omit it to keep the current value")
        return self


class CategoryList(BaseModel):
    items: list[CategoryRead] = Field(description="Active categories first, then by name")
