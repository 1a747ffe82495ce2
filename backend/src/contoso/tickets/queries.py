"""Which tickets a viewer may see: the one definition every list, lookup and update uses."""

from typing import Any, TypeVar

from sqlalchemy import Select, Text, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased, contains_eager, joinedload

from contoso.models import Ticket, TicketStatus, User

S = TypeVar("S", bound=Select[Any])

# The owner as joined here; any other join of `users` needs its own alias.
Owner = aliased(User, name="owner")


def _visible(statement: S, viewer: User | None, status: TicketStatus | None) -> S:
    # Suspension is our soft delete: a ticket is visible while its owner is not
    # suspended. Derived from the owner's row on every query, so there is no
    # second copy of the flag to drift.
    statement = statement.join(Owner, Ticket.owner_id == Owner.id).where(Owner.suspended.is_(False))
    if viewer is not None and not viewer.is_employer:
        statement = statement.where(Ticket.owner_id == viewer.id)
    if status is not None:
        statement = statement.where(Ticket.status == status)
    return statement


def visible_tickets(
    viewer: User | None = None, status: TicketStatus | None = None
) -> Select[tuple[Ticket]]:
    """Tickets `viewer` may see (None: every visible ticket), with owner and decider loaded.

    Employers see every visible ticket; employees only their own.
    """
    return _visible(select(Ticket), viewer, status).options(
        contains_eager(Ticket.owner.of_type(Owner)), joinedload(Ticket.decided_by)
    )


def visible_ticket_ids(
    viewer: User | None = None, status: TicketStatus | None = None
) -> Select[tuple[int]]:
    return _visible(select(Ticket.id), viewer, status)


def count_visible_tickets(
    viewer: User | None = None, status: TicketStatus | None = None
) -> Select[tuple[int]]:
    return _visible(select(func.count()).select_from(Ticket), viewer, status)


def newest_first(statement: S) -> S:
    return statement.order_by(Ticket.created_at.desc(), Ticket.id.desc())


def visible_aggregate(*columns: Any, viewer: User | None = None) -> Select[Any]:
    """SELECT `columns` over the visible tickets (the owner is joined as `Owner`)."""
    return _visible(select(*columns).select_from(Ticket), viewer, None)


# The decider as joined by `visible_ticket_rows`.
Decider = aliased(User, name="decider")


def visible_ticket_rows(
    viewer: User | None = None, status: TicketStatus | None = None
) -> Select[Any]:
    """The visible tickets as plain rows holding exactly what the API shows (no ORM objects)."""
    columns = select(
        Ticket.id,
        Ticket.spent_on,
        Ticket.amount,
        Ticket.description,
        Ticket.links,
        Ticket.status,
        Ticket.created_at,
        Ticket.updated_at,
        Ticket.decided_at,
        Ticket.decision_note,
        Ticket.decided_by_id,
        Decider.username.label("decider_username"),
        Owner.id.label("owner_id"),
        Owner.username.label("owner_username"),
        Owner.email.label("owner_email"),
    ).select_from(Ticket)
    statement = _visible(columns, viewer, status)
    return statement.outerjoin(Decider, Decider.id == Ticket.decided_by_id)


# Filing a ticket is one round trip: lock the owner's row against a concurrent
# suspension (FOR SHARE), insert the ticket only if the owner is still active,
# and write its `ticket_created` history row in the same statement.
FILE_TICKET = text("""
    WITH owner AS (
        SELECT id FROM users WHERE id = :owner_id AND NOT suspended FOR SHARE
    ), ticket AS (
        INSERT INTO tickets (owner_id, spent_on, amount, description, links)
        SELECT id, :spent_on, :amount, :description, :links FROM owner
        RETURNING *
    ), history AS (
        INSERT INTO events (kind, actor_id, ticket_id)
        SELECT 'ticket_created', owner_id, id FROM ticket
    )
    SELECT id, spent_on, amount, description, links, status, created_at, updated_at,
           decided_at, decision_note, decided_by_id, NULL AS decider_username
    FROM ticket
    """).bindparams(bindparam("links", type_=ARRAY(Text)))
