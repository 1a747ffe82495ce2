"""The ticket rules, shared by the JSON API, the console and the pages."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from contoso.auth.service import ensure_employee, ensure_employer
from contoso.database import among, estimated_count
from contoso.errors import Conflict, NotFound, Unauthorized
from contoso.history import record_for_each
from contoso.models import Event, EventKind, Ticket, TicketStatus, User
from contoso.tickets.queries import (
    FILE_TICKET,
    Owner,
    count_visible_tickets,
    newest_first,
    visible_aggregate,
    visible_ticket_ids,
    visible_ticket_rows,
    visible_tickets,
)
from contoso.tickets.schemas import TicketCreate, TicketUpdate

DECISION_EVENTS = {
    TicketStatus.APPROVED: EventKind.TICKET_APPROVED,
    TicketStatus.DENIED: EventKind.TICKET_DENIED,
}


@dataclass
class Page:
    items: Sequence[Ticket]
    total: int
    limit: int
    offset: int


@dataclass
class DecisionOutcome:
    decided: list[int] = field(default_factory=list)
    # Ticket id -> "not_found" (hidden or absent) or "already_decided".
    skipped: dict[int, str] = field(default_factory=dict)


def _not_found(ticket_id: int) -> NotFound:
    # The same answer for "absent", "someone else's" and "hidden": ids confirm nothing.
    return NotFound(f"Ticket {ticket_id} not found.")


async def create_ticket(session: AsyncSession, owner: User, data: TicketCreate) -> dict[str, Any]:
    """File a ticket for `owner` (an employee) with its `ticket_created` history entry.

    Returns the ticket as the API shows it. A suspension that commits first wins:
    the filing is then refused, so no accepted ticket is ever lost or half-written.
    """
    ensure_employee(owner, "file expense tickets")
    row = (await session.execute(FILE_TICKET, {"owner_id": owner.id, **data.model_dump()})).first()
    if row is None:
        raise Unauthorized("Your account is suspended; you can no longer file tickets.")
    return ticket_json(
        row, owner={"id": owner.id, "username": owner.username, "email": owner.email}
    )


async def get_ticket(session: AsyncSession, viewer: User, ticket_id: int) -> Ticket:
    """The ticket if `viewer` may see it, else NotFound."""
    ticket = await session.scalar(
        visible_tickets(viewer)
        .where(Ticket.id == ticket_id)
        .execution_options(populate_existing=True)
    )
    if ticket is None:
        raise _not_found(ticket_id)
    return ticket


async def list_tickets(
    session: AsyncSession,
    viewer: User,
    *,
    status: TicketStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """A page of the tickets `viewer` may see, newest first, with the total count."""
    items = (
        await session.scalars(
            newest_first(visible_tickets(viewer, status)).limit(limit).offset(offset)
        )
    ).all()
    total = await session.scalar(count_visible_tickets(viewer, status)) or 0
    return Page(items=items, total=total, limit=limit, offset=offset)


# Above this many rows a list's total is the planner's estimate: an exact count over
# a million tickets costs more than the page itself.
EXACT_COUNT_LIMIT = 50_000


@dataclass
class RowPage:
    items: list[dict[str, Any]]
    total: int
    total_is_estimate: bool
    limit: int
    offset: int


def ticket_json(row: Sequence[Any], owner: dict[str, Any] | None = None) -> dict[str, Any]:
    """A `visible_ticket_rows` row (or a new ticket's row and its `owner`) shaped as
    TicketRead, the API's ticket. Positional unpacking: this runs 50 times a request."""
    (
        ticket_id,
        spent_on,
        amount,
        description,
        links,
        status,
        created_at,
        updated_at,
        decided_at,
        decision_note,
        decided_by_id,
        decider_username,
        *owner_columns,
    ) = row
    if owner is None:
        owner_id, owner_username, owner_email = owner_columns
        owner = {"id": owner_id, "username": owner_username, "email": owner_email}
    return {
        "id": ticket_id,
        "owner": owner,
        "spent_on": spent_on,
        "amount": amount,
        "description": description,
        "links": links,
        "status": status,
        "created_at": created_at,
        "updated_at": updated_at,
        "decided_at": decided_at,
        "decided_by": (
            {"id": decided_by_id, "username": decider_username}
            if decided_by_id is not None
            else None
        ),
        "decision_note": decision_note,
    }


async def list_ticket_rows(
    session: AsyncSession,
    viewer: User,
    *,
    status: TicketStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> RowPage:
    """`list_tickets` for the JSON API: plain rows, and a cheap total for big lists.

    An employee's own tickets are counted exactly. For employers the total is
    exact up to EXACT_COUNT_LIMIT and the planner's estimate above it.
    """
    statement = newest_first(visible_ticket_rows(viewer, status)).limit(limit).offset(offset)
    if viewer.is_employer:
        # A deferred join: the page's ids come from the covering index alone (no
        # table reads for the rows skipped by OFFSET), then only those rows are read.
        page_ids = (
            newest_first(visible_ticket_ids(viewer, status))
            .limit(limit)
            .offset(offset)
            .correlate(None)
        )
        page = newest_first(visible_ticket_rows(viewer, status).where(Ticket.id.in_(page_ids)))
        rows = (await session.execute(page)).all()
        total, estimated = await estimated_count(
            session, visible_ticket_ids(viewer, status), EXACT_COUNT_LIMIT
        )
        items = [ticket_json(row) for row in rows]
    else:
        # An employee has a few hundred tickets: count them in the same query.
        counted = (await session.execute(statement.add_columns(func.count().over()))).all()
        items = [ticket_json(row[:-1]) for row in counted]
        estimated = False
        if counted:
            total = counted[0][-1]
        else:  # a page past the end still reports the total
            total = await session.scalar(count_visible_tickets(viewer, status)) or 0
    return RowPage(items, total, estimated, limit, offset)


def _changes(ticket: Ticket, values: dict[str, Any]) -> dict[str, list[Any]]:
    def plain(value: Any) -> Any:
        return str(value) if isinstance(value, Decimal) else value

    return {
        name: [plain(getattr(ticket, name)), plain(value)]
        for name, value in values.items()
        if getattr(ticket, name) != value
    }


async def update_ticket(
    session: AsyncSession, editor: User, ticket_id: int, data: TicketUpdate
) -> Ticket:
    """Edit the editor's own pending ticket; a decided ticket is final (Conflict)."""
    # FOR UPDATE: a decision racing with the edit waits, then sees the edited row.
    ticket = await session.scalar(
        visible_tickets(editor)
        .where(Ticket.id == ticket_id, Ticket.owner_id == editor.id)
        .with_for_update(of=Ticket)
    )
    if ticket is None:
        raise _not_found(ticket_id)
    if ticket.status is not TicketStatus.PENDING:
        raise Conflict(
            f"Ticket {ticket_id} was already {ticket.status}; it can no longer be edited."
        )
    values = data.model_dump(mode="python", exclude_unset=True)
    changes = _changes(ticket, values)
    if changes:
        await session.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id)
            .values({name: values[name] for name in changes} | {"updated_at": func.now()})
            .execution_options(synchronize_session=False)
        )
        session.add(
            Event(
                kind=EventKind.TICKET_EDITED,
                actor_id=editor.id,
                ticket_id=ticket_id,
                changes=changes,
            )
        )
        await session.flush()
    return await get_ticket(session, editor, ticket_id)


async def decide_tickets(
    session: AsyncSession,
    employer: User,
    ticket_ids: Sequence[int],
    decision: TicketStatus,
    note: str | None = None,
) -> DecisionOutcome:
    """Approve or deny the pending visible tickets among `ticket_ids`, atomically.

    One conditional UPDATE (`WHERE status = 'pending'`) decides and records history
    in the same statement, so racing employers decide each ticket exactly once.
    """
    ensure_employer(employer, "approve or deny tickets")
    if decision not in DECISION_EVENTS:
        raise ValueError(f"not a decision: {decision}")
    wanted = list(dict.fromkeys(ticket_ids))
    note = note or None
    decided_rows = (
        update(Ticket)
        .where(
            among(Ticket.id, wanted),
            Ticket.status == TicketStatus.PENDING,
            Ticket.id.in_(visible_ticket_ids()),
        )
        .values(
            status=decision,
            decided_by_id=employer.id,
            decided_at=func.now(),
            decision_note=note,
            updated_at=func.now(),
        )
        .returning(Ticket.id)
        .cte("decided")
    )
    record_history = record_for_each(decided_rows, DECISION_EVENTS[decision], employer.id, note)
    decided = set((await session.scalars(record_history)).all())
    outcome = DecisionOutcome(decided=[i for i in wanted if i in decided])
    undecided = [i for i in wanted if i not in decided]
    if undecided:
        seen = set(
            (
                await session.scalars(
                    visible_ticket_ids().where(among(Ticket.id, undecided, "undecided"))
                )
            ).all()
        )
        outcome.skipped = {i: "already_decided" if i in seen else "not_found" for i in undecided}
    return outcome


async def decide_ticket(
    session: AsyncSession,
    employer: User,
    ticket_id: int,
    decision: TicketStatus,
    note: str | None = None,
) -> Ticket:
    """Decide one ticket: NotFound if hidden or absent, Conflict if already decided."""
    # Look first, as the caller: an employee probing other people's ticket ids
    # gets the same 404 as for a missing one, before being told they cannot decide.
    await get_ticket(session, employer, ticket_id)
    outcome = await decide_tickets(session, employer, [ticket_id], decision, note)
    if outcome.skipped.get(ticket_id) == "not_found":
        raise _not_found(ticket_id)
    ticket = await get_ticket(session, employer, ticket_id)
    if ticket_id in outcome.skipped:
        raise Conflict(f"Ticket {ticket_id} was already {ticket.status}; decisions are final.")
    return ticket


async def ticket_history(session: AsyncSession, viewer: User, ticket_id: int) -> Sequence[Event]:
    """What happened to a ticket `viewer` may see, oldest first."""
    await get_ticket(session, viewer, ticket_id)
    return (
        await session.scalars(
            select(Event)
            .where(Event.ticket_id == ticket_id)
            .options(joinedload(Event.actor))
            .order_by(Event.id)
        )
    ).all()


async def tickets_by_ids(
    session: AsyncSession, viewer: User, ticket_ids: Sequence[int]
) -> Sequence[Ticket]:
    """The tickets among `ticket_ids` that `viewer` may see, newest first (for confirmations)."""
    return (
        await session.scalars(
            newest_first(visible_tickets(viewer).where(among(Ticket.id, ticket_ids)))
        )
    ).all()


@dataclass
class MonthlySpend:
    month: date
    approved: Decimal
    filed: Decimal


@dataclass
class TopSpender:
    owner_id: int
    username: str
    email: str
    pending_amount: Decimal
    pending_tickets: int


@dataclass
class Dashboard:
    pending_count: int
    pending_amount: Decimal
    approved_this_month: int
    approved_amount_this_month: Decimal
    denied_this_month: int
    top_pending: list[TopSpender]
    monthly: list[MonthlySpend]


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _months_back(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


async def dashboard(session: AsyncSession, employer: User, today: date | None = None) -> Dashboard:
    """The console's headline figures, all over visible tickets only.

    "This month" is the calendar month (UTC) of the decision; spend per month is
    by purchase date, over the 12 months ending with the current one.
    """
    ensure_employer(employer, "see the dashboard")
    today = today or datetime.now(UTC).date()
    this_month = _month_start(today)
    next_month = _months_back(this_month, -1)
    month_start = datetime.combine(this_month, datetime.min.time(), UTC)
    month_end = datetime.combine(next_month, datetime.min.time(), UTC)
    zero = Decimal("0.00")

    pending_count, pending_amount = (
        await session.execute(
            visible_aggregate(func.count(), func.coalesce(func.sum(Ticket.amount), zero)).where(
                Ticket.status == TicketStatus.PENDING
            )
        )
    ).one()

    decided_this_month = (
        await session.execute(
            visible_aggregate(
                Ticket.status,
                func.count(),
                func.coalesce(func.sum(Ticket.amount), zero),
            )
            .where(
                Ticket.status != TicketStatus.PENDING,
                Ticket.decided_at >= month_start,
                Ticket.decided_at < month_end,
            )
            .group_by(Ticket.status)
        )
    ).all()
    by_status = {status: (count, amount) for status, count, amount in decided_this_month}
    approved_count, approved_amount = by_status.get(TicketStatus.APPROVED, (0, zero))
    denied_count, _ = by_status.get(TicketStatus.DENIED, (0, zero))

    top_rows = (
        await session.execute(
            visible_aggregate(
                Owner.id, Owner.username, Owner.email, func.sum(Ticket.amount), func.count()
            )
            .where(Ticket.status == TicketStatus.PENDING)
            .group_by(Owner.id, Owner.username, Owner.email)
            .order_by(func.sum(Ticket.amount).desc(), Owner.id)
            .limit(5)
        )
    ).all()

    first_month = _months_back(this_month, 11)
    month = func.date_trunc("month", Ticket.spent_on).label("month")
    monthly_rows = (
        await session.execute(
            visible_aggregate(
                month,
                func.coalesce(
                    func.sum(Ticket.amount).filter(Ticket.status == TicketStatus.APPROVED), zero
                ),
                func.sum(Ticket.amount),
            )
            .where(Ticket.spent_on >= first_month, Ticket.spent_on < next_month)
            .group_by(month)
        )
    ).all()
    by_month = {row[0].date(): (row[1], row[2]) for row in monthly_rows}
    monthly = [
        MonthlySpend(m, *by_month.get(m, (zero, zero)))
        for m in (_months_back(this_month, back) for back in range(11, -1, -1))
    ]
    return Dashboard(
        pending_count=pending_count,
        pending_amount=pending_amount,
        approved_this_month=approved_count,
        approved_amount_this_month=approved_amount,
        denied_this_month=denied_count,
        top_pending=[TopSpender(*row) for row in top_rows],
        monthly=monthly,
    )
