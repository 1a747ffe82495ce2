"""The outbox of emails to send."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from contoso.models.base import Base, pg_enum


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
    # To someone without an account yet: an employer invited them to register.
    INVITATION = "invitation"
    # To a user who asked: a link to set a new password.
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a kind of email, not a secret)


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
    kind: Mapped[MailKind] = mapped_column(pg_enum(MailKind, "mail_kind"))
    # The user it is for; none for an invitation, whose reader has no account yet.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
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
