"""Expense categories and their policy."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Identity,
    Index,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from contoso.models.base import Base


class Category(Base):
    """What an expense was for, and the company's policy for it."""

    __tablename__ = "categories"
    __table_args__ = (
        # Names are unique however they are capitalised: "Travel" and "travel" are one.
        Index("uq_categories_name", text("lower(name)"), unique=True),
        # Exactly one default: the category of tickets filed without one.
        Index("uq_categories_default", "is_default", unique=True, postgresql_where="is_default"),
        CheckConstraint("active OR NOT is_default", name="default_active"),
        CheckConstraint("max_amount > 0", name="max_amount_positive"),
        CheckConstraint("receipt_required_above >= 0", name="receipt_threshold_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    is_default: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # Tickets above it are over policy (flag `over_limit`); NULL: no limit.
    max_amount: Mapped[Decimal | None] = mapped_column(Numeric)
    # Tickets above it need a receipt (flag `receipt_missing`); NULL: never required.
    receipt_required_above: Mapped[Decimal | None] = mapped_column(Numeric)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
