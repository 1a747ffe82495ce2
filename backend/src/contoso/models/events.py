"""The append-only history of tickets and employees."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contoso.models.base import Base, pg_enum
from contoso.models.enums import EventKind
from contoso.models.users import User


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
    kind: Mapped[EventKind] = mapped_column(pg_enum(EventKind, "event_kind"))
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
