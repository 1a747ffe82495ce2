"""Emails written into the outbox in the transaction of the change they tell about:
a change that rolls back sends nothing, one that commits is never lost. The sender
(`mail.sender`) delivers them later, rendering each from its `payload`.

One email per employee per change, listing their tickets: a bulk approval of 10,000
tickets is one INSERT ... SELECT, not 10,000 messages.
"""

from collections.abc import Mapping, Sequence

from sqlalchemy import Insert, Text, bindparam, cast, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert

from contoso.currencies.service import COMPANY_CURRENCY
from contoso.database import among
from contoso.models import MailKind, OutboxEmail, Ticket, User

# What an email says about each ticket, as it was when the change happened.
_TICKET = func.jsonb_build_object(
    "id",
    Ticket.id,
    "description",
    Ticket.description,
    "spent_on",
    Ticket.spent_on,
    "amount",
    cast(Ticket.amount, Text),
    "currency",
    Ticket.currency,
    "company_amount",
    cast(Ticket.company_amount, Text),
)


def tell_owners(
    kind: MailKind, ticket_ids: Sequence[int], facts: Mapping[str, str | int | None]
) -> Insert:
    """An email of `kind` to the owner of each of `ticket_ids`, one per owner, listing
    their tickets and saying `facts` (who decided, the note, the payment's reference...).
    Owners who turned emails off, and suspended ones, get none."""
    said = []
    for name, value in facts.items():
        said += [literal(name), bindparam(f"fact_{name}", value, type_=Text)]
    payload = func.jsonb_build_object(
        "tickets",
        func.jsonb_agg(aggregate_order_by(_TICKET, Ticket.id)),
        "company_currency",
        COMPANY_CURRENCY,
        *said,
    )
    per_owner = (
        select(literal(kind, OutboxEmail.kind.type), User.id, User.email, payload)
        .join(User, User.id == Ticket.owner_id)
        .where(
            among(Ticket.id, ticket_ids, "told"),
            User.email_notifications,
            User.suspended.is_(False),
        )
        .group_by(User.id)
        .order_by(User.id)
    )
    return insert(OutboxEmail).from_select(["kind", "user_id", "to_address", "payload"], per_owner)
