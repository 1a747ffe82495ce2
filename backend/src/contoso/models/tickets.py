"""The expense ticket: its policy flags and its row (its statuses: `models.enums`)."""

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

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
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contoso.models.base import Base, pg_enum
from contoso.models.categories import Category
from contoso.models.enums import UNDECIDED, TicketStatus
from contoso.models.users import User

if TYPE_CHECKING:
    from contoso.models.payments import Payment


def _listed(statuses: frozenset[TicketStatus]) -> str:
    """`statuses` as an SQL list of literals, in the enum's order: 'pending', …"""
    return ", ".join(f"'{status.value}'" for status in TicketStatus if status in statuses)


class TicketFlag(enum.StrEnum):
    """What an employer should look at before approving (`contoso.flags`)."""

    OVER_LIMIT = "over_limit"
    RECEIPT_MISSING = "receipt_missing"
    POSSIBLE_DUPLICATE = "possible_duplicate"


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("company_amount > 0", name="company_amount_positive"),
        CheckConstraint("exchange_rate > 0", name="exchange_rate_positive"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
        CheckConstraint(
            "flags <@ ARRAY['over_limit', 'receipt_missing', 'possible_duplicate']::text[]",
            name="known_flags",
        ),
        # Undecided exactly when without a decision. (`status::text`: as for 'paid'
        # below.) A migration that changes UNDECIDED writes the check anew.
        CheckConstraint(
            f"(status::text IN ({_listed(UNDECIDED)})) = (decided_at IS NULL)",
            name="decided_has_time",
        ),
        # Sent back with a note, by someone, at a time (the latest request is kept).
        CheckConstraint(
            "(changes_requested_at IS NULL) = (changes_requested_by_id IS NULL)"
            " AND (changes_requested_at IS NULL) = (changes_note IS NULL)"
            " AND (status::text <> 'changes_requested' OR changes_requested_at IS NOT NULL)",
            name="changes_requested_with_note",
        ),
        # Paid exactly when in a payment, with its time and payer. (`status::text`: the
        # migration that adds 'paid' cannot name the new value in its own transaction.)
        CheckConstraint(
            "(status::text = 'paid') = (payment_id IS NOT NULL)"
            " AND (payment_id IS NULL) = (paid_at IS NULL)"
            " AND (payment_id IS NULL) = (paid_by_id IS NULL)",
            name="paid_in_a_payment",
        ),
        # An employee's own tickets, newest first.
        Index(
            "ix_tickets_owner_recent",
            "owner_id",
            text("created_at DESC"),
            text("id DESC"),
        ),
        # Every ticket newest first, and by status newest first (the console and API lists).
        # owner_id is included so a deep page's ids come from the index alone.
        Index(
            "ix_tickets_recent",
            text("created_at DESC"),
            text("id DESC"),
            postgresql_include=["owner_id"],
        ),
        Index(
            "ix_tickets_status_recent",
            "status",
            text("created_at DESC"),
            text("id DESC"),
            postgresql_include=["owner_id"],
        ),
        # Counting an employee's pending tickets (the employees' list, the digest).
        Index(
            "ix_tickets_pending_owner",
            "owner_id",
            postgresql_where=text("status = 'pending'"),
        ),
        # The console's sort by purchase date.
        Index("ix_tickets_spent_on", "spent_on"),
        # The possible duplicates of a ticket: its owner's with the same date and amount.
        Index(
            "ix_tickets_owner_purchase",
            "owner_id",
            "spent_on",
            "amount",
            postgresql_where=text("status <> 'denied'"),
        ),
        # The flagged tickets newest first (the console's and the API's flag filters).
        Index(
            "ix_tickets_flagged_recent",
            text("created_at DESC"),
            text("id DESC"),
            postgresql_include=["owner_id"],
            postgresql_where=text("flags <> '{}'"),
        ),
        Index("ix_tickets_category", "category_id"),
        Index("ix_tickets_payment", "payment_id", postgresql_where=text("payment_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    spent_on: Mapped[date] = mapped_column(Date)
    # The amount as spent, in `currency` with that currency's decimals (JPY 1500, KWD
    # 1.234): NUMERIC without a scale keeps the decimals it was written with.
    amount: Mapped[Decimal] = mapped_column(Numeric)
    currency: Mapped[str] = mapped_column(String(3))
    # The amount in the company's currency at `exchange_rate` (company units per unit
    # of `currency`; 1 in the company's own), the rate that held on `rate_date` (NULL
    # in the company's own currency). Fixed when the ticket is filed or its amount,
    # currency or date edited: policy limits, totals and payments use it.
    company_amount: Mapped[Decimal] = mapped_column(Numeric)
    exchange_rate: Mapped[Decimal] = mapped_column(Numeric)
    rate_date: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    links: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default=text("'{}'"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    # Kept by `contoso.flags` whenever the ticket, its receipts or its category change.
    flags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default=text("'{}'"))
    # The owner's other tickets this one may duplicate (flag `possible_duplicate`).
    duplicate_of: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), default=list, server_default=text("'{}'")
    )
    status: Mapped[TicketStatus] = mapped_column(
        pg_enum(TicketStatus, "ticket_status"),
        default=TicketStatus.PENDING,
        server_default=TicketStatus.PENDING.value,
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
    # The latest request for changes (kept after the owner resubmits; the history has
    # every round).
    changes_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    changes_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changes_note: Mapped[str | None] = mapped_column(Text)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    # lazy="raise": a list that forgets to load these fails loudly instead of N+1.
    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="raise")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="raise")
    category: Mapped[Category] = relationship(lazy="raise")
    payment: Mapped["Payment | None"] = relationship(lazy="raise")
    paid_by: Mapped[User | None] = relationship(foreign_keys=[paid_by_id], lazy="raise")
