"""Payment batches."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contoso.models.base import Base
from contoso.models.users import User


class Payment(Base):
    """A payment batch: tickets reimbursed together, e.g. by one bank transfer run.

    Its tickets point at it (`tickets.payment_id`); `tickets` and `total` are what it
    paid, written in the transaction that paid them and never changed after.
    """

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("tickets > 0", name="pays_something"),
        Index("ix_payments_recent", text("created_at DESC"), text("id DESC")),
        # One batch per reference, however it is capitalised: "run-14" is "RUN-14".
        Index("uq_payments_reference", text("lower(reference)"), unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # The bank transfer's or the accounting entry's reference: one batch per reference,
    # so the same run is never recorded (and paid) twice.
    reference: Mapped[str] = mapped_column(String(140))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    tickets: Mapped[int] = mapped_column(Integer)
    # In the company's currency.
    total: Mapped[Decimal] = mapped_column(Numeric)

    created_by: Mapped[User] = relationship(lazy="raise")
