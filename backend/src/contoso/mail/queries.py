"""The outbox's states, as the sender, the console and `contoso send-mail` read them."""

from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select

from contoso.models import OutboxEmail, User


class EmailState(StrEnum):
    """Where an email is: still to go (queued, or retried after a refusal), sent, or
    given up after GIVE_UP_AFTER of refusals (`mail.sender`)."""

    WAITING = "waiting"
    SENT = "sent"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"waiting": "Waiting", "sent": "Sent", "failed": "Failed"}[self]


IN_STATE: dict[EmailState, ColumnElement[bool]] = {
    EmailState.WAITING: and_(OutboxEmail.sent_at.is_(None), OutboxEmail.failed_at.is_(None)),
    EmailState.SENT: OutboxEmail.sent_at.is_not(None),
    EmailState.FAILED: OutboxEmail.failed_at.is_not(None),
}


def visible_emails() -> Select[Any]:
    """The emails employers may list: a suspended employee's are hidden with the
    tickets they tell about; invitations, to no user yet, are listed."""
    return (
        select(OutboxEmail)
        .outerjoin(User, User.id == OutboxEmail.user_id)
        .where(or_(OutboxEmail.user_id.is_(None), User.suspended.is_(False)))
    )


def state_of(email: OutboxEmail) -> EmailState:
    if email.sent_at is not None:
        return EmailState.SENT
    return EmailState.WAITING if email.failed_at is None else EmailState.FAILED
