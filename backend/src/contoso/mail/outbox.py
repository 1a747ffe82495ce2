"""Emails written into the outbox in the transaction of the change they tell about:
a change that rolls back sends nothing, one that commits is never lost. The sender
(`mail.sender`) delivers them later, rendering each from its `payload`.

One email per employee per change, listing their tickets: a bulk approval of 10,000
tickets is one INSERT ... SELECT, not 10,000 messages.
"""

from collections.abc import Mapping, Sequence

from sqlalchemy import CTE, Insert, String, bindparam, func, literal, select
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by, insert

from contoso.currencies.service import COMPANY_CURRENCY
from contoso.database import any_of
from contoso.mail.payloads import (
    InvitationPayload,
    MailTicket,
    PasswordResetPayload,
    TicketsPayload,
    facts_of,
    jsonb_of,
)
from contoso.models import MailKind, OutboxEmail, Ticket, User

# What an email says about each ticket, as it was when the change happened.
_TICKET = jsonb_of(
    MailTicket,
    {
        "id": Ticket.id,
        "description": Ticket.description,
        "spent_on": Ticket.spent_on,
        "amount": Ticket.amount,
        "currency": Ticket.currency,
        "company_amount": Ticket.company_amount,
    },
)
# What PostgreSQL gathers for each owner's email; the writer's facts are added to it.
_GATHERED = jsonb_of(
    TicketsPayload,
    {
        "tickets": func.jsonb_agg(aggregate_order_by(_TICKET, Ticket.id)),
        "company_currency": COMPANY_CURRENCY,
    },
)


def tell_owners(
    kind: MailKind, ticket_ids: Sequence[int], facts: Mapping[str, str | int | None]
) -> Insert:
    """An email of `kind` to the owner of each of `ticket_ids`, one per owner, listing
    their tickets and saying `facts` (who decided, the note, the payment's reference...),
    which must be the facts of the kind's schema (`mail.payloads`: a ValidationError
    otherwise). Owners who turned emails off, and suspended ones, get none."""
    said = facts_of(kind).model_validate(facts).model_dump(mode="json")
    payload = _GATHERED.op("||", return_type=JSONB)(bindparam("facts", said, type_=JSONB))
    per_owner = (
        select(literal(kind, OutboxEmail.kind.type), User.id, User.email, payload)
        .join(User, User.id == Ticket.owner_id)
        .where(
            any_of(Ticket.id, ticket_ids, "mailed"),
            User.email_notifications,
            User.suspended.is_(False),
        )
        .group_by(User.id)
        .order_by(User.id)
    )
    return insert(OutboxEmail).from_select(["kind", "user_id", "to_address", "payload"], per_owner)


def invite(to_address: str, payload: InvitationPayload) -> Insert:
    """The invitation email to `to_address`, who has no account yet (so no user)."""
    return insert(OutboxEmail).values(
        kind=MailKind.INVITATION,
        user_id=None,
        to_address=to_address,
        payload=payload.model_dump(mode="json"),
    )


def reset_links(links: CTE, nonce: str) -> Insert:
    """The password reset email to each user `links` names (columns `user_id`, `email`,
    `username`, `expires_at`): a link whose token `nonce` stands for. Sent whatever
    their email setting says: they asked for it."""
    payload = jsonb_of(
        PasswordResetPayload,
        {
            "nonce": literal(nonce, String),
            "username": links.c.username,
            "expires_at": links.c.expires_at,
        },
    )
    rows = select(
        literal(MailKind.PASSWORD_RESET, OutboxEmail.kind.type),
        links.c.user_id,
        links.c.email,
        payload,
    )
    # The server's defaults: in this statement with CTEs, SQLAlchemy 2.1 bound the
    # model's Python default for `attempts` as NULL.
    columns = ["kind", "user_id", "to_address", "payload"]
    return insert(OutboxEmail).from_select(columns, rows, include_defaults=False)
