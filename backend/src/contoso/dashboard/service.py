"""The console's headline figures, over visible tickets only."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from contoso.auth.service import ensure_employer
from contoso.models import Ticket, TicketStatus, User
from contoso.tickets.queries import Owner, over_all_visible_tickets


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
            over_all_visible_tickets(
                func.count(), func.coalesce(func.sum(Ticket.amount), zero)
            ).where(Ticket.status == TicketStatus.PENDING)
        )
    ).one()

    decided_this_month = (
        await session.execute(
            over_all_visible_tickets(
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
            over_all_visible_tickets(
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
            over_all_visible_tickets(
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
