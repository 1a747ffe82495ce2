"""The payment rules: paying approved tickets in batches, exactly once, and what an
employee is owed. Shared by the API, the console and the pages."""

import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CTE,
    BigInteger,
    ColumnElement,
    Row,
    Select,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contoso.auth.service import ensure_employer
from contoso.currencies.service import COMPANY_CURRENCY, company_currency
from contoso.currency_codes import to_minor_units
from contoso.database import any_of
from contoso.errors import Conflict, NotFound
from contoso.models import Payment, Ticket, TicketStatus, User
from contoso.payments.schemas import (
    EmployeePaid,
    Money,
    PaymentPage,
    PaymentPreview,
    PaymentRead,
    PaymentReport,
    PaymentSkip,
    PaymentSkipped,
    PaymentSummary,
    Reimbursement,
)
from contoso.tickets.executor import authorise, run, skip_reasons, whose
from contoso.tickets.queries import all_visible_ticket_ids
from contoso.tickets.schemas import Person
from contoso.tickets.workflow import PAY


def _generated_reference(now: datetime) -> str:
    # Readable, sortable by day, and unique without asking the database.
    return f"PAY-{now:%Y%m%d}-{secrets.token_hex(3).upper()}"


def _payable(wanted: Sequence[int], employer: User) -> list[ColumnElement[bool]]:
    """Among `wanted`, what `employer` can pay: approved visible tickets, but their own."""
    return [
        any_of(Ticket.id, wanted),
        Ticket.status.in_(PAY.sources),
        Ticket.id.in_(all_visible_ticket_ids()),
        whose(PAY, employer),
    ]


_NEXT_PAYMENT_ID = select(func.nextval(func.pg_get_serial_sequence("payments", "id")))


def _recorded(payment_id: int, employer_id: int, reference: str) -> Callable[[CTE], list[CTE]]:
    """The payment's row, written in the statement that pays, with the count and sum of
    what it paid: no row when nothing was."""

    def recorded(paid: CTE) -> list[CTE]:
        row = select(
            literal(payment_id, BigInteger),
            literal(reference, Payment.reference.type),
            literal(employer_id, BigInteger),
            func.count(),
            func.sum(paid.c.company_amount),
        ).select_from(paid)
        written = insert(Payment).from_select(
            ["id", "reference", "created_by_id", "tickets", "total"], row.having(func.count() > 0)
        )
        return [written.returning(Payment.id).cte("payment")]

    return recorded


async def pay_tickets(
    session: AsyncSession, employer: User, ticket_ids: Sequence[int], reference: str = ""
) -> PaymentReport:
    """Pay the approved visible tickets among `ticket_ids` in one new payment batch, with
    `reference` (generated when blank), each exactly once however many payments race
    (`tickets.executor`); report what it paid and what it skipped (not found or
    hidden, the employer's own, not approved, already paid). Conflict when it would pay
    nothing, or when the reference already names a payment."""
    authorise(PAY, employer)
    reference = reference or _generated_reference(datetime.now(UTC))
    # Taken first, so the statement that pays can write it on each ticket and the
    # emails can name it (a payment that pays nothing leaves a gap in the ids).
    payment_id = await session.scalar(_NEXT_PAYMENT_ID)
    assert payment_id is not None  # nextval never is
    facts = {"by": employer.username, "reference": reference, "payment_id": str(payment_id)}
    try:
        # A savepoint: a reference already used is a 409 and the transaction lives on.
        async with session.begin_nested():
            outcome = await run(
                session,
                PAY,
                employer,
                ticket_ids,
                note=reference,  # on each ticket's history: which run paid it
                given={"payment_id": payment_id},
                facts=facts,
                also=_recorded(payment_id, employer.id, reference),
            )
    except IntegrityError as exc:
        if "uq_payments_reference" not in str(exc.orig):
            raise
        raise Conflict(
            f"A payment with the reference “{reference}” already exists; check that this "
            "run was not recorded before, or give it its own reference."
        ) from exc
    skipped = [PaymentSkipped(id=i, reason=PaymentSkip(r)) for i, r in outcome.skipped.items()]
    if not outcome.done:
        reasons = ", ".join(sorted({skip.reason.label for skip in skipped}))
        raise Conflict(f"None of these tickets can be paid ({reasons}); nothing was recorded.")
    payment = await get_payment(session, employer, payment_id)
    return PaymentReport(**payment.model_dump(), skipped=skipped)


_CREATOR = (
    select(User.username).where(User.id == Payment.created_by_id).scalar_subquery().label("creator")
)
_SUMMARY = select(Payment, _CREATOR, COMPANY_CURRENCY.label("currency"))


def _summary(row: Row[Payment, str, str]) -> PaymentSummary:
    """A `_SUMMARY` row as the API shows a batch."""
    payment = row.Payment
    return PaymentSummary(
        id=payment.id,
        reference=payment.reference,
        created_at=payment.created_at,
        created_by=Person(id=payment.created_by_id, username=row.creator),
        tickets=payment.tickets,
        total=payment.total,
        currency=row.currency,
    )


async def list_payments(
    session: AsyncSession, employer: User, *, limit: int = 50, offset: int = 0
) -> PaymentPage:
    """Payment batches, newest first (employers only)."""
    ensure_employer(employer, "see payments")
    rows = await session.execute(
        _SUMMARY.order_by(Payment.created_at.desc(), Payment.id.desc()).limit(limit).offset(offset)
    )
    total = await session.scalar(select(func.count()).select_from(Payment)) or 0
    return PaymentPage(
        items=[_summary(row) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


async def _shares(session: AsyncSession, *tickets: ColumnElement[bool]) -> list[EmployeePaid]:
    """Each employee's share of the tickets that `tickets` selects: by name."""
    rows = await session.execute(
        select(
            User.id,
            User.username,
            User.email,
            func.sum(Ticket.company_amount).label("amount"),
            func.array_agg(aggregate_order_by(Ticket.id, Ticket.id)).label("tickets"),
        )
        .join(User, User.id == Ticket.owner_id)
        .where(*tickets)
        .group_by(User.id)
        .order_by(func.lower(User.username), User.id)
    )
    return [EmployeePaid.model_validate(row._mapping) for row in rows]


async def get_payment(session: AsyncSession, employer: User, payment_id: int) -> PaymentRead:
    """A payment batch with its tickets and what each employee was paid (employers
    only). A batch is a record of money sent: it lists every ticket it paid, also of
    employees suspended since."""
    ensure_employer(employer, "see payments")
    found = (await session.execute(_SUMMARY.where(Payment.id == payment_id))).first()
    if found is None:
        raise NotFound(f"Payment {payment_id} not found.")
    employees = await _shares(session, Ticket.payment_id == payment_id)
    return PaymentRead(
        **_summary(found).model_dump(),
        paid=sorted(ticket for employee in employees for ticket in employee.tickets),
        employees=employees,
    )


async def reimbursement(session: AsyncSession, user: User, zone: ZoneInfo) -> Reimbursement:
    """What `user` is owed (approved, unpaid) and was paid this calendar year in `zone`."""
    year_start = datetime.now(zone).replace(
        month=1, day=1, hour=0, minute=0, second=0, microsecond=0
    )

    def money(*conditions: ColumnElement[bool]) -> Select[int, Decimal]:
        return select(
            func.count().label("tickets"),
            func.coalesce(func.sum(Ticket.company_amount), literal_column("0")).label("amount"),
        ).where(Ticket.owner_id == user.id, *conditions)

    company = await company_currency(session)

    async def counted(*conditions: ColumnElement[bool]) -> Money:
        found = (await session.execute(money(*conditions))).one()
        return Money(
            tickets=found.tickets, amount=to_minor_units(found.amount, company), currency=company
        )

    return Reimbursement(
        owed=await counted(Ticket.status == TicketStatus.APPROVED),
        paid_this_year=await counted(
            Ticket.status == TicketStatus.PAID, Ticket.paid_at >= year_start
        ),
    )


async def preview_payment(
    session: AsyncSession, employer: User, ticket_ids: Sequence[int]
) -> PaymentPreview:
    """What `pay_tickets` would pay among `ticket_ids` if it ran now, per employee (as
    `get_payment` shares a batch), and what it would skip with its reason: for a
    confirmation. Read-only; `pay_tickets` decides again (another payment may come first)."""
    authorise(PAY, employer)
    wanted = list(dict.fromkeys(ticket_ids))
    employees = await _shares(session, *_payable(wanted, employer))
    payable = {ticket for employee in employees for ticket in employee.tickets}
    skipped = await skip_reasons(session, PAY, employer, [i for i in wanted if i not in payable])
    return PaymentPreview(
        employees=employees,
        skipped=[PaymentSkipped(id=i, reason=PaymentSkip(r)) for i, r in skipped.items()],
    )
