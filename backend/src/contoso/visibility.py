"""Which tickets are visible: the one rule, below every package that lists, counts or
totals tickets (the ticket queries, the dashboard's totals, the mail digest)."""

from typing import Any, TypeVar

from sqlalchemy import Select, SQLColumnExpression, select
from sqlalchemy.orm import aliased

from contoso.models import Ticket, User

StatementT = TypeVar("StatementT", bound=Select[*tuple[Any, ...]])

# The owner as joined here; any other join of `users` needs its own alias.
Owner = aliased(User, name="owner")


def visible_owners(statement: StatementT, owner_id: SQLColumnExpression[int]) -> StatementT:
    """`statement` joined with the employee that `owner_id` names (as `Owner`), kept
    only while that employee's tickets are visible: for rows kept per employee, such
    as the dashboard's pending totals."""
    # Suspension is our soft delete: a ticket is visible while its owner is not
    # suspended. Derived from the owner's row on every query, so there is no
    # second copy of the flag to drift.
    return statement.join(Owner, Owner.id == owner_id).where(Owner.suspended.is_(False))


def over_all_visible_tickets(*columns: Any) -> Select[Any]:
    """SELECT `columns` over every visible ticket (the owner is joined as `Owner`)."""
    return visible_owners(select(*columns).select_from(Ticket), Ticket.owner_id)
