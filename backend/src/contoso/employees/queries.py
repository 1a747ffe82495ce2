"""Which users are employees, with their ticket counts: shared by the API and the console."""

from sqlalchemy import Select, func, select
from sqlalchemy.orm import with_expression

from contoso.employees.schemas import EmployeeState
from contoso.models import Role, Ticket, TicketStatus, User


def employees(state: EmployeeState | None = None) -> Select[User]:
    """Employees (never employers), optionally only active or only suspended ones."""
    statement = select(User).where(User.role == Role.EMPLOYEE)
    if state is not None:
        statement = statement.where(User.suspended.is_(state is EmployeeState.SUSPENDED))
    return statement


def with_ticket_counts(statement: Select[User]) -> Select[User]:
    """Fill `total_tickets` and `pending_tickets` (hidden tickets included).

    Correlated counts run only for the rows selected, through the owner index.
    """
    total = select(func.count()).where(Ticket.owner_id == User.id).scalar_subquery()
    pending = (
        select(func.count())
        .where(Ticket.owner_id == User.id, Ticket.status == TicketStatus.PENDING)
        .scalar_subquery()
    )
    return statement.options(
        with_expression(User.total_tickets, total),
        with_expression(User.pending_tickets, pending),
    )


def newest_first(statement: Select[User]) -> Select[User]:
    return statement.order_by(User.created_at.desc(), User.id.desc())
