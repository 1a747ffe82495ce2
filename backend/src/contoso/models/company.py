"""The company itself (one row)."""

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from contoso.models.base import Base


class Company(Base):
    """The company itself: one row. Its currency is fixed when the database is created
    (from COMPANY_CURRENCY), since every ticket's `company_amount` is in it; the app
    refuses to start with a COMPANY_CURRENCY that disagrees."""

    __tablename__ = "company"
    __table_args__ = (
        CheckConstraint("one", name="one_row"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
    )

    one: Mapped[bool] = mapped_column(primary_key=True, default=True)
    currency: Mapped[str] = mapped_column(String(3))
    # When employers were last sent the digest of tickets waiting for a decision.
    last_digest_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
