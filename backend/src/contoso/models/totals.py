"""The dashboard's running totals."""

from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Numeric
from sqlalchemy.orm import Mapped, mapped_column

from contoso.models.base import Base, pg_enum
from contoso.models.enums import TicketStatus


class PendingTotal(Base):
    """Pending tickets per employee and month of purchase (`spent_on`), for the dashboard.

    Kept by the statements that file, edit and decide tickets (`dashboard.totals`).
    Rows are per employee, so concurrent filings rarely touch the same row, and hidden
    tickets are counted too: readers join the owner, as the visibility rule does.
    """

    __tablename__ = "pending_totals"

    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    # The first day of the month.
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    tickets: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[Decimal] = mapped_column(Numeric)


class DecidedTotal(Base):
    """Visible decided tickets per month and decision, for the dashboard: by month of
    purchase (`spent_*`) and by month of the decision in UTC (`decided_*`).

    Kept by the statements that decide tickets, and by suspension and reactivation,
    which take an employee's decided tickets out and put them back (`dashboard.totals`).
    """

    __tablename__ = "decided_totals"
    __table_args__ = (CheckConstraint("status <> 'pending'", name="decided"),)

    # The first day of the month.
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[TicketStatus] = mapped_column(
        pg_enum(TicketStatus, "ticket_status"), primary_key=True
    )
    spent_tickets: Mapped[int] = mapped_column(BigInteger)
    spent_amount: Mapped[Decimal] = mapped_column(Numeric)
    decided_tickets: Mapped[int] = mapped_column(BigInteger)
    decided_amount: Mapped[Decimal] = mapped_column(Numeric)


class PaidTotal(Base):
    """Visible paid tickets per month of payment (UTC), for the dashboard's "paid this
    month". Kept by the statement that pays, and by suspension and reactivation, as
    `DecidedTotal` is."""

    __tablename__ = "paid_totals"

    # The first day of the month.
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    tickets: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[Decimal] = mapped_column(Numeric)
