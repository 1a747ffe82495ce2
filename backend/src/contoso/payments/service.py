"""The payment rules: paying approved tickets in batches, exactly once, and what an
employee is owed. Shared by the API, the console and the pages."""

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    func,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contoso.auth.service import ensure_employer
from contoso.currencies.codes import to_minor_units
from contoso.currencies.service import COMPANY_CURRENCY, company_currency
from contoso.dashboard import totals
from contoso.database import among
from contoso.errors import Conflict, NotFound
from contoso.history import record_for_each
from contoso.mail import outbox
from contoso.models import EventKind, MailKind, Payment, Ticket, TicketStatus, User
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
from contoso.tickets.queries import all_visible_ticket_ids
from contoso.tickets.schemas import Person


def _generated_reference(now: datetime) -> str:
    # Readable, sortable by day, and unique without asking the database.
    return f"PAY-{now:%Y%m%d}-{secrets.token_hex(3).upper()}"


def _payable(wanted: Sequence[int]) -> list[ColumnElement[bool]]:
    """Among `wanted`, what can be paid: approved tickets of visible employees."""
    return [
        among(Ticket.id, wanted),
        Ticket.status == TicketStatus.APPROVED,
        Ticket.id.in_(all_visible_ticket_ids()),
    ]


def _paying(employer_id: int, reference: str, wanted: Sequence[int]) -> Select[int]:
    """The statement that pays: the approved visible tickets among `wanted` become paid
    in a new payment of their count and sum, each with a `ticket_paid` history row, and
    the dashboard's totals move them from approved to paid. One conditional UPDATE
    (`WHERE status = 'approved'`): racing payments pay each ticket once."""
    payment_id = select(
        func.nextval(func.pg_get_serial_sequence("payments", "id")).label("id")
    ).cte("payment_id")
    the_payment = select(payment_id.c.id).scalar_subquery()
    paid = (
        update(Ticket)
        .where(*_payable(wanted))
        .values(
            status=TicketStatus.PAID,
            payment_id=the_payment,
            paid_at=func.now(),
            paid_by_id=employer_id,
            updated_at=func.now(),
        )
        .returning(
            Ticket.id,
            Ticket.owner_id,
            Ticket.company_amount,
            Ticket.spent_on,
            Ticket.decided_at,
            Ticket.status,
            Ticket.paid_at,
        )
        .cte("paid")
    )
    # The payment's row, written with what it paid: no row when nothing was.
    recorded = (
        insert(Payment)
        .from_select(
            ["id", "reference", "created_by_id", "tickets", "total"],
            select(
                the_payment,
                literal(reference, Payment.reference.type),
                literal(employer_id, BigInteger),
                func.count(),
                func.sum(paid.c.company_amount),
            )
            .select_from(paid)
            .having(func.count() > 0),
        )
        .returning(Payment.id)
        .cte("recorded")
    )
    was_approved = select(
        literal(TicketStatus.APPROVED, Ticket.status.type).label("status"),
        paid.c.spent_on,
        paid.c.decided_at,
        paid.c.company_amount,
    ).subquery("was_approved")
    return select(paid.c.id).add_cte(
        payment_id,
        recorded,
        # The reference on each ticket's history: which run paid it.
        record_for_each(paid, EventKind.TICKET_PAID, employer_id, note=reference).cte("history"),
        totals.count_decided(was_approved, -1).cte("no_longer_approved"),
        totals.count_decided(paid, 1).cte("counted_paid"),
        totals.count_paid(paid, 1).cte("counted_paid_month"),
    )


async def pay_tickets(
    session: AsyncSession, employer: User, ticket_ids: Sequence[int], reference: str = ""
) -> PaymentReport:
    """Pay the approved visible tickets among `ticket_ids` in one new payment batch, with
    `reference` (generated when blank); report what it paid and what it skipped
    (not found or hidden, not approved, already paid). Conflict when it would pay
    nothing, or when the reference already names a payment."""
    ensure_employer(employer, "pay tickets")
    wanted = list(dict.fromkeys(ticket_ids))
    # The owners held first (FOR SHARE, as deciding does): a suspension waits for the
    # payment, and the payment's fresh snapshot sees who is suspended, so the
    # dashboard's totals never count a hidden ticket as paid.
    owners = select(Ticket.owner_id).where(among(Ticket.id, wanted, "wanted"))
    await session.execute(
        select(User.id).where(User.id.in_(owners)).order_by(User.id).with_for_update(read=True)
    )
    # Then the approved tickets, locked in id order: the UPDATE's own locking order
    # follows its plan, which differs between connections (custom or generic), and
    # overlapping batches locking in different orders deadlock.
    payable = (
        select(Ticket.id)
        .where(among(Ticket.id, wanted), Ticket.status == TicketStatus.APPROVED)
        .order_by(Ticket.id)
        .with_for_update(key_share=True)
    )
    locked = list((await session.scalars(payable)).all())
    reference = reference or _generated_reference(datetime.now(UTC))
    try:
        # A savepoint: a reference already used is a 409 and the transaction lives on.
        async with session.begin_nested():
            paid = set((await session.scalars(_paying(employer.id, reference, locked))).all())
    except IntegrityError as exc:
        if "uq_payments_reference" not in str(exc.orig):
            raise
        raise Conflict(
            f"A payment with the reference “{reference}” already exists; check that this "
            "run was not recorded before, or give it its own reference."
        ) from exc
    unpaid = [i for i in wanted if i not in paid]
    skipped = await _skip_reasons(session, unpaid) if unpaid else {}
    if not paid:
        reasons = ", ".join(sorted({reason.label for reason in skipped.values()}))
        raise Conflict(f"None of these tickets can be paid ({reasons}); nothing was recorded.")
    payment_id = await session.scalar(
        select(Ticket.payment_id).where(Ticket.id == next(iter(paid)))
    )
    assert payment_id is not None  # the statement above just wrote it
    facts = {"by": employer.username, "reference": reference, "payment_id": str(payment_id)}
    await session.execute(outbox.tell_owners(MailKind.TICKETS_PAID, sorted(paid), facts))
    payment = await get_payment(session, employer, payment_id)
    return PaymentReport(
        **payment.model_dump(),
        skipped=[PaymentSkipped(id=i, reason=reason) for i, reason in skipped.items()],
    )


async def _skip_reasons(session: AsyncSession, unpaid: Sequence[int]) -> dict[int, PaymentSkip]:
    found = select(Ticket.id, Ticket.status).where(
        among(Ticket.id, unpaid, "unpaid"), Ticket.id.in_(all_visible_ticket_ids())
    )
    seen = {row.id: row.status for row in await session.execute(found)}

    def reason(ticket_id: int) -> PaymentSkip:
        status = seen.get(ticket_id)
        if status is None:
            return PaymentSkip.NOT_FOUND
        if status is TicketStatus.PAID:
            return PaymentSkip.ALREADY_PAID
        return PaymentSkip.NOT_APPROVED

    return {ticket_id: reason(ticket_id) for ticket_id in unpaid}


_CREATOR = select(User.username).where(User.id == Payment.created_by_id).scalar_subquery()


def _summary(payment: Payment, creator: str, currency: str) -> PaymentSummary:
    return PaymentSummary(
        id=payment.id,
        reference=payment.reference,
        created_at=payment.created_at,
        created_by=Person(id=payment.created_by_id, username=creator),
        tickets=payment.tickets,
        total=payment.total,
        currency=currency,
    )


async def list_payments(
    session: AsyncSession, employer: User, *, limit: int = 50, offset: int = 0
) -> PaymentPage:
    """Payment batches, newest first (employers only)."""
    ensure_employer(employer, "see payments")
    rows = await session.execute(
        select(Payment, _CREATOR, COMPANY_CURRENCY)
        .order_by(Payment.created_at.desc(), Payment.id.desc())
        .limit(limit)
        .offset(offset)
    )
    total = await session.scalar(select(func.count()).select_from(Payment)) or 0
    return PaymentPage(
        items=[_summary(*row) for row in rows],
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
            func.sum(Ticket.company_amount),
            func.array_agg(aggregate_order_by(Ticket.id, Ticket.id)),
        )
        .join(User, User.id == Ticket.owner_id)
        .where(*tickets)
        .group_by(User.id)
        .order_by(func.lower(User.username), User.id)
    )
    return [
        EmployeePaid(id=id_, username=username, email=email, amount=amount, tickets=list(ids))
        for id_, username, email, amount, ids in rows
    ]


async def get_payment(session: AsyncSession, employer: User, payment_id: int) -> PaymentRead:
    """A payment batch with its tickets and what each employee was paid (employers
    only). A batch is a record of money sent: it lists every ticket it paid, also of
    employees suspended since."""
    ensure_employer(employer, "see payments")
    found = (
        await session.execute(
            select(Payment, _CREATOR, COMPANY_CURRENCY).where(Payment.id == payment_id)
        )
    ).first()
    if found is None:
        raise NotFound(f"Payment {payment_id} not found.")
    employees = await _shares(session, Ticket.payment_id == payment_id)
    return PaymentRead(
        **_summary(*found).model_dump(),
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
            func.count(), func.coalesce(func.sum(Ticket.company_amount), literal_column("0"))
        ).where(Ticket.owner_id == user.id, *conditions)

    company = await company_currency(session)

    async def counted(*conditions: ColumnElement[bool]) -> Money:
        tickets, amount = (await session.execute(money(*conditions))).one()
        return Money(tickets=tickets, amount=to_minor_units(amount, company), currency=company)

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
    ensure_employer(employer, "pay tickets")
    wanted = list(dict.fromkeys(ticket_ids))
    employees = await _shares(session, *_payable(wanted))
    payable = {ticket for employee in employees for ticket in employee.tickets}
    unpaid = [i for i in wanted if i not in payable]
    skipped = await _skip_reasons(session, unpaid) if unpaid else {}
    return PaymentPreview(
        employees=employees,
        skipped=[PaymentSkipped(id=i, reason=reason) for i, reason in skipped.items()],
    )
