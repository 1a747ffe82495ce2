"""The console's headline figures, over visible tickets only, read from the running totals
that the ticket and employee services keep (`dashboard.totals`): a few hundred rows
however many tickets there are."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contoso.auth.service import ensure_employer
from contoso.models import DecidedTotal, PaidTotal, PendingTotal, TicketStatus, User
from contoso.visibility import Owner, visible_owners

MONTHS_SHOWN = 12
TOP_SHOWN = 5
ZERO = Decimal("0.00")


@dataclass
class MonthlySpend:
    """What was spent in one month (by purchase date), by where it stands."""

    month: date
    approved: Decimal
    pending: Decimal
    denied: Decimal


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
    denied_amount_this_month: Decimal
    # Approved and not yet paid, whenever approved; and paid this month (UTC).
    awaiting_payment: int
    awaiting_payment_amount: Decimal
    paid_this_month: int
    paid_amount_this_month: Decimal
    top_pending: list[TopSpender]
    monthly: list[MonthlySpend]


def _months_back(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


async def dashboard(session: AsyncSession, employer: User, today: date | None = None) -> Dashboard:
    """The console's headline figures, all over visible tickets only.

    "This month" is the calendar month (UTC) of the decision; spend per month is
    by purchase date, over the 12 months ending with the current one.
    """
    ensure_employer(employer, "see the dashboard")
    this_month = (today or datetime.now(UTC).date()).replace(day=1)
    months = [_months_back(this_month, back) for back in range(MONTHS_SHOWN - 1, -1, -1)]

    decided = {
        (total.month, total.status): total
        for total in await session.scalars(
            select(DecidedTotal).where(DecidedTotal.month.between(months[0], this_month))
        )
    }
    # Every month's: money approved long ago is owed until it is paid.
    awaiting_count, awaiting_amount = (
        await session.execute(
            select(
                func.coalesce(func.sum(DecidedTotal.spent_tickets), 0).cast(BigInteger),
                func.coalesce(func.sum(DecidedTotal.spent_amount), ZERO),
            ).where(DecidedTotal.status == TicketStatus.APPROVED)
        )
    ).one()
    paid = await session.get(PaidTotal, this_month)

    pending_tickets = func.sum(PendingTotal.tickets).cast(BigInteger)
    pending_amount = func.sum(PendingTotal.amount)
    pending_by_month = {
        month: (tickets, amount)
        for month, tickets, amount in await session.execute(
            visible_owners(
                select(PendingTotal.month, pending_tickets, pending_amount).select_from(
                    PendingTotal
                ),
                PendingTotal.owner_id,
            ).group_by(PendingTotal.month)
        )
    }
    top_rows = await session.execute(
        visible_owners(
            select(
                Owner.id.label("owner_id"),
                Owner.username,
                Owner.email,
                pending_amount.label("pending_amount"),
                pending_tickets.label("pending_tickets"),
            ).select_from(PendingTotal),
            PendingTotal.owner_id,
        )
        .group_by(Owner.id)
        .having(pending_tickets > 0)
        .order_by(pending_amount.desc(), Owner.id)
        .limit(TOP_SHOWN)
    )

    # A paid ticket was approved: it counts as approved where decisions are shown.
    approving = {TicketStatus.APPROVED: (TicketStatus.APPROVED, TicketStatus.PAID)}

    def spent(month: date, status: TicketStatus) -> Decimal:
        rows = [decided.get((month, s)) for s in approving.get(status, (status,))]
        return sum((row.spent_amount for row in rows if row), ZERO)

    def decided_in(status: TicketStatus) -> tuple[int, Decimal]:
        rows = [decided.get((this_month, s)) for s in approving.get(status, (status,))]
        return (
            sum(row.decided_tickets for row in rows if row),
            sum((row.decided_amount for row in rows if row), ZERO),
        )

    approved_count, approved_amount = decided_in(TicketStatus.APPROVED)
    denied_count, denied_amount = decided_in(TicketStatus.DENIED)
    return Dashboard(
        pending_count=sum(tickets for tickets, _ in pending_by_month.values()),
        pending_amount=sum((amount for _, amount in pending_by_month.values()), ZERO),
        approved_this_month=approved_count,
        approved_amount_this_month=approved_amount,
        denied_this_month=denied_count,
        denied_amount_this_month=denied_amount,
        awaiting_payment=awaiting_count,
        awaiting_payment_amount=awaiting_amount,
        paid_this_month=paid.tickets if paid else 0,
        paid_amount_this_month=paid.amount if paid else ZERO,
        top_pending=[TopSpender(**row._mapping) for row in top_rows],
        monthly=[
            MonthlySpend(
                month,
                approved=spent(month, TicketStatus.APPROVED),
                pending=pending_by_month.get(month, (0, ZERO))[1],
                denied=spent(month, TicketStatus.DENIED),
            )
            for month in months
        ],
    )
