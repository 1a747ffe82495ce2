"""Suspension and reactivation of employees: the soft delete of their tickets."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from contoso.auth.service import ensure_employer
from contoso.dashboard import totals
from contoso.database import any_of
from contoso.employees.queries import employees, newest_first, with_ticket_counts
from contoso.employees.schemas import EmployeeRead, EmployeeSkip, EmployeeState
from contoso.errors import Conflict, NotFound
from contoso.history import record_for_each
from contoso.models import EventKind, Role, User
from contoso.tickets.workflow import COUNTED_IN


@dataclass
class SuspensionOutcome:
    changed: list[int] = field(default_factory=list)
    skipped: dict[int, EmployeeSkip] = field(default_factory=dict)


async def list_employees(
    session: AsyncSession,
    employer: User,
    *,
    state: EmployeeState | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[EmployeeRead], int]:
    """Employees newest first with their ticket counts (hidden tickets included)."""
    ensure_employer(employer, "list employees")
    users = await session.scalars(
        newest_first(with_ticket_counts(employees(state))).limit(limit).offset(offset)
    )
    count = await session.scalar(employees(state).with_only_columns(func.count()))
    return [EmployeeRead.model_validate(user) for user in users], count or 0


async def get_employee(session: AsyncSession, employer: User, employee_id: int) -> EmployeeRead:
    """One employee with ticket counts; NotFound for unknown ids and for employers."""
    ensure_employer(employer, "view employees")
    user = await session.scalar(
        with_ticket_counts(employees().where(User.id == employee_id)).execution_options(
            populate_existing=True
        )
    )
    if user is None:
        raise NotFound(f"Employee {employee_id} not found.")
    return EmployeeRead.model_validate(user)


async def employees_by_ids(
    session: AsyncSession, employer: User, employee_ids: Sequence[int]
) -> Sequence[User]:
    """The employees among `employee_ids`, with ticket counts (for confirmation pages)."""
    ensure_employer(employer, "view employees")
    statement = with_ticket_counts(employees()).where(any_of(User.id, employee_ids))
    return (await session.scalars(newest_first(statement))).all()


async def _set_suspended(
    session: AsyncSession, employer: User, employee_ids: Sequence[int], suspend: bool
) -> SuspensionOutcome:
    ensure_employer(employer, "suspend or reactivate employees")
    wanted = list(dict.fromkeys(employee_ids))
    values = (
        # A new token version: every token issued before the suspension dies for good.
        {
            "suspended": True,
            "suspended_at": func.now(),
            "token_version": User.token_version + 1,
        }
        if suspend
        else {"suspended": False, "suspended_at": None}
    )
    changed_rows = (
        update(User)
        .where(
            any_of(User.id, wanted),
            User.role == Role.EMPLOYEE,
            User.suspended.is_(not suspend),
        )
        .values(values)
        .returning(User.id)
        .cte("changed")
    )
    kind = EventKind.EMPLOYEE_SUSPENDED if suspend else EventKind.EMPLOYEE_REACTIVATED
    changed = set((await session.scalars(record_for_each(changed_rows, kind, employer.id))).all())
    if changed:
        # Hidden tickets leave the dashboard's totals and come back. A statement of its
        # own: it sees the decisions the UPDATE above waited for.
        sign = -1 if suspend else 1
        await session.execute(totals.count_decided_of_owners(sorted(changed), sign, COUNTED_IN))
        await session.execute(totals.count_paid_of_owners(sorted(changed), sign, COUNTED_IN))
    outcome = SuspensionOutcome(changed=[i for i in wanted if i in changed])
    rest = [i for i in wanted if i not in changed]
    if rest:
        existing = set(
            (
                await session.scalars(
                    employees().with_only_columns(User.id).where(any_of(User.id, rest))
                )
            ).all()
        )
        already = EmployeeSkip.ALREADY_SUSPENDED if suspend else EmployeeSkip.ALREADY_ACTIVE
        outcome.skipped = {i: already if i in existing else EmployeeSkip.NOT_FOUND for i in rest}
    return outcome


async def suspend_employees(
    session: AsyncSession, employer: User, employee_ids: Sequence[int]
) -> SuspensionOutcome:
    """Suspend active employees: they cannot log in, their tokens and tickets vanish."""
    return await _set_suspended(session, employer, employee_ids, suspend=True)


async def reactivate_employees(
    session: AsyncSession, employer: User, employee_ids: Sequence[int]
) -> SuspensionOutcome:
    """Reactivate suspended employees: their tickets are visible again."""
    return await _set_suspended(session, employer, employee_ids, suspend=False)


async def set_employee_suspended(
    session: AsyncSession, employer: User, employee_id: int, suspend: bool
) -> EmployeeRead:
    """Suspend or reactivate one employee: NotFound, or Conflict if already in that state."""
    outcome = await _set_suspended(session, employer, [employee_id], suspend)
    reason = outcome.skipped.get(employee_id)
    if reason is EmployeeSkip.NOT_FOUND:
        raise NotFound(f"Employee {employee_id} not found.")
    if reason:
        state = "suspended" if suspend else "active"
        raise Conflict(f"Employee {employee_id} is already {state}.")
    return await get_employee(session, employer, employee_id)
