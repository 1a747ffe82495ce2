"""Exchange rates into the company's currency, kept as recorded."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Numeric,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contoso.models.base import Base
from contoso.models.users import User


class ExchangeRate(Base):
    """How many units of the company's currency one unit of `currency` buys, from
    `valid_from` until the currency's next rate. Kept as recorded: tickets converted
    with a rate keep it (`tickets.exchange_rate`), whatever rates come later."""

    __tablename__ = "exchange_rates"
    __table_args__ = (
        CheckConstraint("rate > 0", name="rate_positive"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
        # One rate per currency and day; the rate for a purchase is the latest from
        # on or before its date, found by this index.
        Index("uq_exchange_rates_currency_valid_from", "currency", "valid_from", unique=True),
        Index("ix_exchange_rates_recent", text("valid_from DESC"), "currency"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(Numeric)
    valid_from: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User | None] = relationship(lazy="raise")
