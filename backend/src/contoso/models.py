"""Typed SQLAlchemy models. Pydantic schemas live beside each domain's endpoints."""

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    mapped_column,
    query_expression,
    relationship,
)

# Stable constraint names so Alembic migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _pg_enum(enum_class: type[enum.Enum], name: str) -> Enum:
    # Store the lower-case values ("pending"), not the Python member names.
    return Enum(
        enum_class,
        name=name,
        values_callable=lambda members: [member.value for member in members],
    )


class Role(enum.StrEnum):
    EMPLOYEE = "employee"
    EMPLOYER = "employer"


class TicketStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    # Reimbursed in a payment batch: final.
    PAID = "paid"
    # Sent back to its owner with a note; pending again once they resubmit it.
    CHANGES_REQUESTED = "changes_requested"


# Its owner may still change it (fields, receipts); it waits for them or for a decision.
EDITABLE = frozenset({TicketStatus.PENDING, TicketStatus.CHANGES_REQUESTED})
# An employer decided it (then it may be paid).
DECIDED = frozenset({TicketStatus.APPROVED, TicketStatus.DENIED, TicketStatus.PAID})


class TicketFlag(enum.StrEnum):
    """What an employer should look at before approving (`tickets.flags`)."""

    OVER_LIMIT = "over_limit"
    RECEIPT_MISSING = "receipt_missing"
    POSSIBLE_DUPLICATE = "possible_duplicate"


class EventKind(enum.StrEnum):
    TICKET_CREATED = "ticket_created"
    TICKET_EDITED = "ticket_edited"
    TICKET_APPROVED = "ticket_approved"
    TICKET_DENIED = "ticket_denied"
    TICKET_RECEIPT_ADDED = "ticket_receipt_added"
    TICKET_RECEIPT_REMOVED = "ticket_receipt_removed"
    TICKET_PAID = "ticket_paid"
    TICKET_CHANGES_REQUESTED = "ticket_changes_requested"
    TICKET_RESUBMITTED = "ticket_resubmitted"
    TICKET_COMMENTED = "ticket_commented"
    EMPLOYEE_SUSPENDED = "employee_suspended"
    EMPLOYEE_REACTIVATED = "employee_reactivated"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # Emails are stored normalised, so a plain unique constraint is case-insensitive.
        CheckConstraint("email = lower(email)", name="email_normalised"),
        CheckConstraint("suspended = (suspended_at IS NOT NULL)", name="suspended_has_time"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    username: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_pg_enum(Role, "user_role"))
    suspended: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Emails about their own tickets (decisions, requests for changes, payments).
    email_notifications: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    # Bumped on suspension: every token minted before it stops working for good.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    # Filled only by queries that ask for them (with_expression): see employees.queries.
    total_tickets: Mapped[int | None] = query_expression()
    pending_tickets: Mapped[int | None] = query_expression()

    @property
    def is_employer(self) -> bool:
        return self.role is Role.EMPLOYER


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
        # Undecided (pending, or sent back for changes) exactly when without a decision.
        # (`status::text`: as for 'paid' below.)
        CheckConstraint(
            "(status::text IN ('pending', 'changes_requested')) = (decided_at IS NULL)",
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
        # The dashboard's figures, answered from the indexes alone (index-only scans).
        Index(
            "ix_tickets_pending_owner",
            "owner_id",
            postgresql_include=["amount"],
            postgresql_where=text("status = 'pending'"),
        ),
        Index(
            "ix_tickets_decided_at",
            "decided_at",
            postgresql_include=["status", "amount", "owner_id"],
            postgresql_where=text("decided_at IS NOT NULL"),
        ),
        Index(
            "ix_tickets_spent_on", "spent_on", postgresql_include=["status", "amount", "owner_id"]
        ),
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
    # Kept by `tickets.flags` whenever the ticket, its receipts or its category change.
    flags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default=text("'{}'"))
    # The owner's other tickets this one may duplicate (flag `possible_duplicate`).
    duplicate_of: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), default=list, server_default=text("'{}'")
    )
    status: Mapped[TicketStatus] = mapped_column(
        _pg_enum(TicketStatus, "ticket_status"),
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


class Comment(Base):
    """A message on a ticket, by its owner or an employer: append-only (a trigger
    refuses edits), and in the ticket's history."""

    __tablename__ = "ticket_comments"
    __table_args__ = (Index("ix_ticket_comments_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    author: Mapped[User] = relationship(lazy="raise")


class MailKind(enum.StrEnum):
    """What an email in the outbox tells its reader."""

    TICKETS_APPROVED = "tickets_approved"
    TICKETS_DENIED = "tickets_denied"
    CHANGES_REQUESTED = "changes_requested"
    TICKETS_PAID = "tickets_paid"
    # To the owner: an employer commented on their ticket.
    TICKET_COMMENTED = "ticket_commented"
    # To an employer: tickets waiting for a decision.
    DIGEST = "digest"


class OutboxEmail(Base):
    """An email to send, written in the transaction of the change it tells about, so a
    change that rolls back sends nothing and one that commits is never lost. `payload`
    holds what the message says (rendered when it is sent); the sender delivers rows
    with retries (`attempts`, `next_attempt_at`) and marks them `sent_at`, or `failed_at`
    when the mail server has refused the email for too long (`mail.sender`)."""

    __tablename__ = "outbox_emails"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("sent_at IS NULL OR failed_at IS NULL", name="sent_or_failed"),
        # What is left to send, soonest first.
        Index(
            "ix_outbox_emails_due",
            "next_attempt_at",
            "id",
            postgresql_where=text("sent_at IS NULL AND failed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[MailKind] = mapped_column(_pg_enum(MailKind, "mail_kind"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    to_address: Mapped[str] = mapped_column(String(254))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    # When the mail server first refused this email (an outage is no refusal), and
    # when the sender gave up on it.
    first_refused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Receipt(Base):
    """A receipt's description; its bytes are kept by `receipts.storage`."""

    __tablename__ = "receipts"
    __table_args__ = (
        CheckConstraint("size > 0", name="size_positive"),
        Index("ix_receipts_ticket", "ticket_id", "id"),
        # Duplicate detection: the same file on another ticket.
        Index("ix_receipts_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ReceiptChunk(Base):
    """A receipt's bytes in pieces of at most `receipts.storage.CHUNK_BYTES`, so a file
    is written and read a piece at a time, and commits or rolls back with its ticket."""

    __tablename__ = "receipt_chunks"

    receipt_id: Mapped[int] = mapped_column(
        ForeignKey("receipts.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class IdempotencyKey(Base):
    """A filing made with an `Idempotency-Key`: the same key and body again within a day
    return this ticket instead of filing another."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # SHA-256 of the request's parsed body: a different body under the same key is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PendingTotal(Base):
    """Pending tickets per employee and month of purchase (`spent_on`), for the dashboard.

    Kept by the statements that file, edit and decide tickets (`dashboard.totals`).
    Rows are per employee, so concurrent filings rarely touch the same row, and hidden
    tickets are counted too: readers join the owner, as the visibility rule does.
    """

    __tablename__ = "pending_totals"

    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    # The first day of the month.
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    tickets: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[Decimal] = mapped_column(Numeric)


class DecidedTotal(Base):
    """Visible decided tickets per month and decision, for the dashboard: by month of
    purchase (`spent_*`) and by month of the decision in UTC (`decided_*`).

    Kept by the statements that decide tickets, and by suspension and reactivation,
    which take an employee's decided tickets out and put them back (`dashboard.totals`).
    """

    __tablename__ = "decided_totals"
    __table_args__ = (CheckConstraint("status <> 'pending'", name="decided"),)

    # The first day of the month.
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[TicketStatus] = mapped_column(
        _pg_enum(TicketStatus, "ticket_status"), primary_key=True
    )
    spent_tickets: Mapped[int] = mapped_column(BigInteger)
    spent_amount: Mapped[Decimal] = mapped_column(Numeric)
    decided_tickets: Mapped[int] = mapped_column(BigInteger)
    decided_amount: Mapped[Decimal] = mapped_column(Numeric)


class PaidTotal(Base):
    """Visible paid tickets per month of payment (UTC), for the dashboard's "paid this
    month". Kept by the statement that pays, and by suspension and reactivation, as
    `DecidedTotal` is."""

    __tablename__ = "paid_totals"

    # The first day of the month.
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    tickets: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[Decimal] = mapped_column(Numeric)


class Event(Base):
    """Append-only history of tickets and employees; a trigger refuses edits."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("(ticket_id IS NULL) <> (subject_id IS NULL)", name="one_subject"),
        Index("ix_events_ticket", "ticket_id", "id"),
        Index("ix_events_subject", "subject_id", "id"),
        Index("ix_events_recent", text("created_at DESC"), text("id DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[EventKind] = mapped_column(_pg_enum(EventKind, "event_kind"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    # The employee an employee event is about (suspended, reactivated).
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    # For edits: {"field": [old, new]}.
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    actor: Mapped[User] = relationship(foreign_keys=[actor_id], lazy="raise")
    subject: Mapped[User | None] = relationship(foreign_keys=[subject_id], lazy="raise")


class Invitation(Base):
    """An employer's invitation for one email to register as an employer: single-use,
    expiring. Only a hash of the code is kept; the code itself is shown once."""

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_normalised"),
        CheckConstraint("(used_at IS NULL) = (used_by_id IS NULL)", name="used_by_someone"),
        Index("ix_invitations_recent", text("created_at DESC"), text("id DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    invited_by: Mapped[User] = relationship(foreign_keys=[invited_by_id], lazy="raise")
    used_by: Mapped[User | None] = relationship(foreign_keys=[used_by_id], lazy="raise")


class WebSession(Base):
    """Server-side browser sessions (console and pages); the cookie holds only a random id."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_expires_at", "expires_at"),)

    # SHA-256 of the session id: a leaked table does not hand out live sessions.
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
