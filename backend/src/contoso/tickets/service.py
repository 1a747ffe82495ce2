"""The ticket rules, shared by the JSON API, the console, the pages and the CLI.

Every call that returns tickets returns them as `TicketRead`, the one shape every door
shows, read with `queries.ticket_columns`.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    bindparam,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, joinedload

from contoso.auth.queries import holds_token, token_parameters
from contoso.auth.service import ensure_employee, ensure_employer, user_for_token
from contoso.auth.tokens import TokenClaims
from contoso.dashboard import totals
from contoso.database import among, column_rows, estimated_count
from contoso.errors import Conflict, NotFound, Unauthorized
from contoso.history import record_for_each
from contoso.models import Event, EventKind, Role, Ticket, TicketStatus, User
from contoso.tickets.queries import (
    all_visible_ticket_ids,
    all_visible_tickets,
    bearer_tickets,
    count_visible_tickets,
    filed_ticket,
    newest_first,
    visible_ticket_ids,
    visible_tickets,
)
from contoso.tickets.schemas import TicketCreate, TicketPage, TicketRead, TicketSkip, TicketUpdate

DECISION_EVENTS = {
    TicketStatus.APPROVED: EventKind.TICKET_APPROVED,
    TicketStatus.DENIED: EventKind.TICKET_DENIED,
}
# Above this many rows an employer's list total is the planner's estimate: an exact
# count over a million tickets costs more than the page itself.
EXACT_COUNT_LIMIT = 50_000


@dataclass
class DecisionOutcome:
    decided: list[int] = field(default_factory=list)
    skipped: dict[int, TicketSkip] = field(default_factory=dict)


def _not_found(ticket_id: int) -> NotFound:
    # The same answer for "absent", "someone else's" and "hidden": ids confirm nothing.
    return NotFound(f"Ticket {ticket_id} not found.")


async def _tickets(
    session: AsyncSession, statement: Select[Any], parameters: dict[str, Any] | None = None
) -> list[TicketRead]:
    return [TicketRead.from_row(row) for row in await column_rows(session, statement, parameters)]


# What an employee fills in: the filing statement's parameters, besides who files.
FILED_FIELDS = tuple(TicketCreate.model_fields)


def _filing(*owner_is: ColumnElement[bool]) -> Select[Any]:
    """The filing statement for the owner that `owner_is` finds among active users,
    built once: lock the owner's row against a concurrent suspension (FOR SHARE),
    insert the ticket only if that row is found, record and count it, and read it back."""
    active_owner = (
        select(User.id)
        .where(*owner_is, User.suspended.is_(False))
        .with_for_update(read=True)
        .cte("active_owner")
    )
    columns = Ticket.__table__.c
    inserted = (
        insert(Ticket)
        .from_select(
            ["owner_id", *FILED_FIELDS],
            select(
                active_owner.c.id,
                *(bindparam(name, type_=columns[name].type) for name in FILED_FIELDS),
            ),
            # The server's defaults (status 'pending'): SQLAlchemy fills Python-side
            # defaults for only one of a statement's several INSERTs (history, totals).
            include_defaults=False,
        )
        .returning(*columns)
        .cte("inserted")
    )
    filer = inserted.c.owner_id
    history = record_for_each(inserted, EventKind.TICKET_CREATED, filer).cte("history")
    counted = totals.count_pending((inserted, 1)).cte("counted")
    return filed_ticket(aliased(Ticket, inserted)).add_cte(history, counted)


_FILING = _filing(User.id == bindparam("owner_id", type_=BigInteger))
# The API's filing: the token check rides along, as on the employee's list.
_BEARER_FILING = _filing(*holds_token(User), User.role == Role.EMPLOYEE)


async def file_ticket(session: AsyncSession, owner: User, data: TicketCreate) -> TicketRead:
    """File a ticket for `owner` (an employee) with its `ticket_created` history entry,
    in one statement. A suspension that commits first wins: the filing is then
    refused, so no accepted ticket is ever lost or half-written.
    """
    ensure_employee(owner, "file expense tickets")
    filed = await _tickets(session, _FILING, data.model_dump() | {"owner_id": owner.id})
    if not filed:
        raise Unauthorized("Your account is suspended; you can no longer file tickets.")
    return filed[0]


async def file_ticket_for_bearer(
    session: AsyncSession, claims: TokenClaims, data: TicketCreate
) -> TicketRead:
    """`file_ticket` for the bearer of a token whose claims are not yet checked: one
    statement when the bearer is an active employee; anyone else is checked on their
    own and gets `file_ticket`'s answer."""
    parameters = data.model_dump() | token_parameters(claims)
    filed = await _tickets(session, _BEARER_FILING, parameters)
    if filed:
        return filed[0]
    return await file_ticket(session, await user_for_token(session, claims), data)


async def get_ticket(session: AsyncSession, viewer: User, ticket_id: int) -> TicketRead:
    """The ticket if `viewer` may see it, else NotFound."""
    found = await _tickets(session, visible_tickets(viewer).where(Ticket.id == ticket_id))
    if not found:
        raise _not_found(ticket_id)
    return found[0]


def _counted(statement: Select[Any]) -> Select[Any]:
    """A page of `statement`'s tickets, newest first, each row with the count of all
    of them; executed with `limit` and `offset`."""
    # An uncorrelated subquery, run once: unlike `count(*) OVER ()` it lets the page
    # itself stop after `limit` rows of the newest-first index instead of sorting all.
    total = select(func.count()).select_from(statement.subquery()).scalar_subquery()
    counted = newest_first(statement.add_columns(total.label("total")))
    return counted.limit(bindparam("limit", type_=Integer)).offset(
        bindparam("offset", type_=Integer)
    )


# The busiest request's statement, built once per status filter.
_BEARER_PAGES = {status: _counted(bearer_tickets(status)) for status in [None, *TicketStatus]}


async def _counted_page(
    session: AsyncSession, page: Select[Any], parameters: dict[str, Any]
) -> tuple[list[TicketRead], int | None]:
    """The tickets of a `_counted` statement and their total; None when the page is empty."""
    rows = await column_rows(session, page, parameters)
    return [TicketRead.from_row(row) for row in rows], rows[0]["total"] if rows else None


async def list_tickets(
    session: AsyncSession,
    viewer: User,
    *,
    status: TicketStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> TicketPage:
    """A page of the tickets `viewer` may see, newest first, with their total.

    An employee's own tickets are counted exactly. For employers the total is exact
    up to EXACT_COUNT_LIMIT and the planner's estimate above it.
    """
    if not viewer.is_employer:
        page = _counted(visible_tickets(viewer, status))
        items, total = await _counted_page(session, page, {"limit": limit, "offset": offset})
        if total is None:  # a page past the end still reports the total
            total = await session.scalar(count_visible_tickets(viewer, status)) or 0
        return TicketPage(items=items, total=total, limit=limit, offset=offset)
    # A deferred join: the page's ids come from a covering index alone (no table
    # reads for the rows skipped by OFFSET), then only those rows are read.
    page_ids = (
        newest_first(all_visible_ticket_ids(status)).limit(limit).offset(offset).correlate(None)
    )
    items = await _tickets(
        session, newest_first(all_visible_tickets(status).where(Ticket.id.in_(page_ids)))
    )
    total, estimated = await estimated_count(
        session, all_visible_ticket_ids(status), EXACT_COUNT_LIMIT
    )
    return TicketPage(
        items=items, total=total, total_is_estimate=estimated, limit=limit, offset=offset
    )


async def list_tickets_for_bearer(
    session: AsyncSession,
    claims: TokenClaims,
    *,
    status: TicketStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> TicketPage:
    """`list_tickets` for the bearer of a token whose claims are not yet checked.

    The busiest request, so an employee's page and the check that their token is
    still good are one query; anyone else (an employer, an employee with an empty
    page, a stale token) is checked on its own first.
    """
    parameters = token_parameters(claims) | {"limit": limit, "offset": offset}
    items, total = await _counted_page(session, _BEARER_PAGES[status], parameters)
    if total is not None:
        return TicketPage(items=items, total=total, limit=limit, offset=offset)
    viewer = await user_for_token(session, claims)
    return await list_tickets(session, viewer, status=status, limit=limit, offset=offset)


async def update_ticket(
    session: AsyncSession, editor: User, ticket_id: int, data: TicketUpdate
) -> TicketRead:
    """Edit the editor's own pending ticket; a decided ticket is final (Conflict)."""
    # Lock first (FOR UPDATE), then read: a decision racing with the edit either
    # waits and sees the edited row, or commits first and the edit sees it decided.
    locked = await session.scalar(
        visible_ticket_ids(editor)
        .where(Ticket.id == ticket_id, Ticket.owner_id == editor.id)
        .with_for_update(of=Ticket)
    )
    if locked is None:
        raise _not_found(ticket_id)
    ticket = await get_ticket(session, editor, ticket_id)
    if ticket.status is not TicketStatus.PENDING:
        raise Conflict(
            f"Ticket {ticket_id} was already {ticket.status}; it can no longer be edited."
        )
    wanted = data.model_dump(exclude_unset=True)
    current = ticket.model_dump(include=set(wanted))
    changed = {name: value for name, value in wanted.items() if current[name] != value}
    if changed:
        # Recorded as the API writes them ("12.50", "2026-01-15").
        changes = {name: to_jsonable_python([current[name], changed[name]]) for name in changed}
        # Read in the same statement as the UPDATE, so before it: the row is locked.
        before = select(Ticket.owner_id, Ticket.spent_on, Ticket.amount).where(
            Ticket.id == ticket_id
        )
        edited = (
            update(Ticket)
            .where(Ticket.id == ticket_id)
            .values(changed | {"updated_at": func.now()})
            .returning(Ticket.id, Ticket.owner_id, Ticket.spent_on, Ticket.amount)
            .cte("edited")
        )
        moved = totals.count_pending((before.cte("before"), -1), (edited, 1)).cte("moved")
        await session.execute(
            record_for_each(edited, EventKind.TICKET_EDITED, editor.id, changes=changes).add_cte(
                moved
            )
        )
        if "spent_on" in changed:
            await session.execute(totals.sweep_pending(select(literal(editor.id, BigInteger))))
    return await get_ticket(session, editor, ticket_id)


async def decide_tickets(
    session: AsyncSession,
    employer: User,
    ticket_ids: Sequence[int],
    decision: TicketStatus,
    note: str | None = None,
) -> DecisionOutcome:
    """Approve or deny the pending visible tickets among `ticket_ids`, atomically.

    One conditional UPDATE (`WHERE status = 'pending'`) decides, records history and
    counts the dashboard's totals in the same statement, so racing employers decide
    each ticket exactly once.
    """
    ensure_employer(employer, "approve or deny tickets")
    if decision not in DECISION_EVENTS:
        raise ValueError(f"not a decision: {decision}")
    wanted = list(dict.fromkeys(ticket_ids))
    note = note or None
    # The owners' rows held first (FOR SHARE, as filing does), in a statement of its
    # own: no suspension or reactivation of theirs commits until this decision does,
    # and the decision's fresh snapshot sees which of them are suspended. So the
    # dashboard's totals, which suspensions take out, never count a hidden decision.
    owners = select(Ticket.owner_id).where(among(Ticket.id, wanted, "wanted"))
    await session.execute(
        select(User.id).where(User.id.in_(owners)).order_by(User.id).with_for_update(read=True)
    )
    decided_rows = (
        update(Ticket)
        .where(
            among(Ticket.id, wanted),
            Ticket.status == TicketStatus.PENDING,
            Ticket.id.in_(all_visible_ticket_ids()),
        )
        .values(
            status=decision,
            decided_by_id=employer.id,
            decided_at=func.now(),
            decision_note=note,
            updated_at=func.now(),
        )
        .returning(
            Ticket.id,
            Ticket.owner_id,
            Ticket.spent_on,
            Ticket.amount,
            Ticket.status,
            Ticket.decided_at,
        )
        .cte("decided")
    )
    record_history = record_for_each(
        decided_rows, DECISION_EVENTS[decision], employer.id, note=note
    ).add_cte(
        totals.count_pending((decided_rows, -1)).cte("no_longer_pending"),
        totals.count_decided(decided_rows, 1).cte("counted_decided"),
    )
    decided = set((await session.scalars(record_history)).all())
    outcome = DecisionOutcome(decided=[i for i in wanted if i in decided])
    undecided = [i for i in wanted if i not in decided]
    if undecided:
        seen = set(
            (
                await session.scalars(
                    all_visible_ticket_ids().where(among(Ticket.id, undecided, "undecided"))
                )
            ).all()
        )
        outcome.skipped = {
            i: TicketSkip.ALREADY_DECIDED if i in seen else TicketSkip.NOT_FOUND for i in undecided
        }
    if decided:
        decided_owners = select(Ticket.owner_id).where(among(Ticket.id, outcome.decided, "decided"))
        await session.execute(totals.sweep_pending(decided_owners))
    return outcome


async def decide_ticket(
    session: AsyncSession,
    employer: User,
    ticket_id: int,
    decision: TicketStatus,
    note: str | None = None,
) -> TicketRead:
    """Decide one ticket: NotFound if hidden or absent, Conflict if already decided."""
    # Look first, as the caller: an employee probing other people's ticket ids
    # gets the same 404 as for a missing one, before being told they cannot decide.
    await get_ticket(session, employer, ticket_id)
    outcome = await decide_tickets(session, employer, [ticket_id], decision, note)
    if outcome.skipped.get(ticket_id) is TicketSkip.NOT_FOUND:
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
) -> list[TicketRead]:
    """The tickets among `ticket_ids` that `viewer` may see, newest first (for confirmations)."""
    return await _tickets(
        session, newest_first(visible_tickets(viewer).where(among(Ticket.id, ticket_ids)))
    )
