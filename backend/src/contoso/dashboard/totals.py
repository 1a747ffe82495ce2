"""The dashboard's running totals: the SQL pieces that the ticket and employee services
compose into the statements that change tickets, so a change and its totals commit
together.

`pending_totals` holds pending tickets per employee and month of purchase: filing adds,
an edit moves, a decision takes away. Rows are per employee, so concurrent filings
almost never meet on one, and hidden tickets stay counted: readers join the owner, as
the visibility rule does (`contoso.visibility.visible_owners`).

`decided_totals` holds visible decided tickets per month and decision, by month of
purchase and by month of the decision (UTC): a decision adds; a suspension takes the
employee's decided tickets out and a reactivation puts them back. A paid ticket moves
from `approved` to `paid`, keeping its months.

`paid_totals` holds visible paid tickets per month of payment (UTC): paying adds, and
suspension and reactivation take out and put back, as for the decided totals.

Amounts are in the company's currency (`tickets.company_amount`). Which statuses each
table counts is declared with the statuses (`tickets.workflow.STATUSES`) and handed in.

Every piece adds with INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n:
PostgreSQL applies the addition to the row as last committed, after waiting for any
concurrent writer of it, so no increment is lost. Rows are written in key order, so
two writers of several rows cannot deadlock on them.
"""

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from typing import assert_never

from sqlalchemy import (
    CTE,
    ColumnElement,
    Date,
    DateTime,
    Delete,
    FromClause,
    Insert,
    SQLColumnExpression,
    cast,
    delete,
    func,
    literal,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contoso.database import any_of
from contoso.models import (
    Base,
    DecidedTotal,
    PaidTotal,
    PendingTotal,
    Ticket,
    TicketStatus,
)
from contoso.visibility import visible_owners

# A change's tickets: each row counted `sign` times (+1 added, -1 taken away).
Change = tuple[FromClause, int]


class Tally(Enum):
    PENDING = "pending_totals"
    DECIDED = "decided_totals"
    PAID = "paid_totals"


# The statuses each table counts (`tickets.workflow.COUNTED_IN`).
CountedIn = Mapping[Tally, Collection[TicketStatus]]


# The columns the totals read of a ticket: what a status change's RETURNING gives, as
# it is after the change and, prefixed `was_`, as it was before.
TALLIED = ("owner_id", "spent_on", "company_amount", "status", "decided_at", "paid_at")


def _count(tally: Tally, rows: FromClause, sign: int) -> Insert:
    match tally:
        case Tally.PENDING:
            return count_pending((rows, sign))
        case Tally.DECIDED:
            return count_decided(rows, sign)
        case Tally.PAID:
            return count_paid(rows, sign)
        case _:
            assert_never(tally)


def count_moved(
    moved: CTE, sources: Mapping[TicketStatus, Sequence[Tally]], entered: Sequence[Tally]
) -> list[Insert]:
    """Take the tickets a status change `moved` (rows with TALLIED and `was_` TALLIED
    columns) out of the totals that counted them, by the status each had (`sources`, with
    the totals counting each), and add them to the totals of their new status, `entered`."""
    was = select(*(moved.c[f"was_{name}"].label(name) for name in TALLIED))
    left: dict[Tally, list[TicketStatus]] = {}
    for status, counting in sources.items():
        for tally in counting:
            left.setdefault(tally, []).append(status)
    changes = [
        _count(tally, was.where(moved.c.was_status.in_(statuses)).subquery(f"left_{i}"), -1)
        for i, (tally, statuses) in enumerate(left.items())
    ]
    return changes + [_count(tally, moved, 1) for tally in entered]


def month_of(day: SQLColumnExpression[date]) -> ColumnElement[date]:
    """The first day of `day`'s month."""
    return cast(func.date_trunc("month", cast(day, DateTime)), Date)


def decision_month(moment: SQLColumnExpression[datetime]) -> ColumnElement[date]:
    """The first day of the month, in UTC, of a decision made at `moment`."""
    return cast(func.date_trunc("month", func.timezone("UTC", moment)), Date)


def _add(model: type[Base], keys: Sequence[str], rows: FromClause) -> Insert:
    """INSERT the sums of `rows`' measures per key, added to the rows already there."""
    measures = [column.name for column in model.__table__.columns if column.name not in keys]
    summed = (
        select(
            *(rows.c[key] for key in keys),
            *(func.sum(rows.c[name]).label(name) for name in measures),
        ).group_by(*(rows.c[key] for key in keys))
        # Key order: writers of several rows take their locks in the same order.
        .order_by(*(rows.c[key] for key in keys))
    )
    statement = insert(model).from_select([*keys, *measures], summed)
    return statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: getattr(model, name) + statement.excluded[name] for name in measures},
    )


def count_pending(*changes: Change) -> Insert:
    """Add each change's tickets (rows with `owner_id`, `spent_on` and `company_amount`,
    such as an INSERT's or UPDATE's RETURNING) to the pending totals, `sign` times each."""
    parts = [
        select(
            rows.c.owner_id.label("owner_id"),
            month_of(rows.c.spent_on).label("month"),
            literal(sign).label("tickets"),
            (rows.c.company_amount * sign).label("amount"),
        )
        for rows, sign in changes
    ]
    moved = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("moved")
    return _add(PendingTotal, ["owner_id", "month"], moved)


def count_decided(tickets: FromClause, sign: int) -> Insert:
    """Add decided `tickets` (rows with `status`, `spent_on`, `decided_at` and
    `company_amount`)
    to the decided totals `sign` times each, by month of purchase and of decision."""
    by_purchase = select(
        month_of(tickets.c.spent_on).label("month"),
        tickets.c.status.label("status"),
        literal(sign).label("spent_tickets"),
        (tickets.c.company_amount * sign).label("spent_amount"),
        literal(0).label("decided_tickets"),
        literal(0).label("decided_amount"),
    )
    by_decision = select(
        decision_month(tickets.c.decided_at),
        tickets.c.status,
        literal(0),
        literal(0),
        literal(sign),
        tickets.c.company_amount * sign,
    )
    return _add(DecidedTotal, ["month", "status"], union_all(by_purchase, by_decision).subquery())


def count_paid(tickets: FromClause, sign: int) -> Insert:
    """Add paid `tickets` (rows with `paid_at` and `company_amount`) to the paid totals
    `sign` times each, by month of payment."""
    paid = select(
        decision_month(tickets.c.paid_at).label("month"),
        literal(sign).label("tickets"),
        (tickets.c.company_amount * sign).label("amount"),
    ).subquery("paid_rows")
    return _add(PaidTotal, ["month"], paid)


def count_paid_of_owners(owner_ids: Sequence[int], sign: int, counted_in: CountedIn) -> Insert:
    """`count_decided_of_owners` for the paid totals: the employees' paid tickets."""
    paid = (
        select(Ticket.paid_at, Ticket.company_amount)
        .where(any_of(Ticket.owner_id, owner_ids, "owner_ids"))
        .where(Ticket.status.in_(counted_in[Tally.PAID]))
        .subquery("owners_paid")
    )
    return count_paid(paid, sign)


def count_decided_of_owners(owner_ids: Sequence[int], sign: int, counted_in: CountedIn) -> Insert:
    """Add the decided tickets of the employees `owner_ids` to the decided totals `sign`
    times each: -1 when they are suspended (their tickets leave the dashboard), +1 when
    they are reactivated.

    Run it after the UPDATE of the employees' rows, as a statement of its own: that
    UPDATE waits for the decisions and payments that hold an employee's row
    (`decide_tickets` and `pay_tickets` hold the owners first), and a new statement's
    snapshot then sees what they decided or paid.
    """
    decided = (
        select(Ticket.status, Ticket.spent_on, Ticket.decided_at, Ticket.company_amount)
        .where(any_of(Ticket.owner_id, owner_ids, "owner_ids"))
        .where(Ticket.status.in_(counted_in[Tally.DECIDED]))
        .subquery("owners_decided")
    )
    return count_decided(decided, sign)


def sweep_pending(owner_ids: Sequence[int]) -> Delete:
    """Delete the pending rows left empty (no pending tickets) of the employees
    `owner_ids`, so the table keeps about one row per employee and month with something
    pending.

    Run it last in a transaction that decided or moved tickets: it skips rows another
    transaction holds instead of waiting for them, so it cannot deadlock, and a row it
    skips is swept another time. A row filed into meanwhile is no longer empty when
    locked, and is kept.
    """
    emptied = (
        select(PendingTotal.owner_id, PendingTotal.month)
        # An array parameter, not a subquery: PostgreSQL evaluated `IN (SELECT ...)` of
        # 10,000 decided tickets' owners once per row (6 s for a bulk approval).
        .where(
            any_of(PendingTotal.owner_id, owner_ids, "swept"), PendingTotal.tickets == 0
        ).with_for_update(skip_locked=True)
    )
    return delete(PendingTotal).where(
        tuple_(PendingTotal.owner_id, PendingTotal.month).in_(emptied)
    )


async def recount(connection: AsyncConnection, counted_in: CountedIn) -> None:
    """Rebuild the tables from the tickets, for tickets loaded without the services
    (the benchmark's seed), each counting the statuses `counted_in` says. Not while the
    services write: a change racing the rebuild could be counted twice or not at all."""
    await connection.execute(delete(PendingTotal))
    await connection.execute(delete(DecidedTotal))
    await connection.execute(delete(PaidTotal))
    month = month_of(Ticket.spent_on)
    await connection.execute(
        insert(PendingTotal).from_select(
            ["owner_id", "month", "tickets", "amount"],
            select(Ticket.owner_id, month, func.count(), func.sum(Ticket.company_amount))
            .where(Ticket.status.in_(counted_in[Tally.PENDING]))
            .group_by(Ticket.owner_id, month),
        )
    )
    decided = visible_owners(
        select(Ticket.status, Ticket.spent_on, Ticket.decided_at, Ticket.company_amount),
        Ticket.owner_id,
    ).where(Ticket.status.in_(counted_in[Tally.DECIDED]))
    await connection.execute(count_decided(decided.subquery("decided"), 1))
    paid = visible_owners(select(Ticket.paid_at, Ticket.company_amount), Ticket.owner_id).where(
        Ticket.status.in_(counted_in[Tally.PAID])
    )
    await connection.execute(count_paid(paid.subquery("paid"), 1))
