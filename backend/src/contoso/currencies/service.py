"""The currency rules: the company's currency, exchange rates, and converting a
ticket's amount into the company's currency at the rate that held when it was spent.
Shared by the ticket and category services, the API, the console and the CLI."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

from sqlalchemy import (
    BigInteger,
    Date,
    Numeric,
    Select,
    String,
    bindparam,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from contoso.auth.service import ensure_employer
from contoso.currencies.files import RateLine
from contoso.currencies.schemas import (
    ExchangeRateCreate,
    ExchangeRatePage,
    ExchangeRateRead,
    RateImport,
    RecordedBy,
)
from contoso.currency_codes import (
    in_minor_units,
    minor_units_rule,
    to_minor_units,
)
from contoso.errors import Conflict, InvalidField
from contoso.formatting import money
from contoso.models import Company, ExchangeRate, User
from contoso.validation import MAX_AMOUNT

COMPANY_CURRENCY = select(Company.currency).scalar_subquery()
# Enough digits for any amount times any rate, exactly (15 + 3 and 10 + 12 digits).
EXACT_DIGITS = 50
# A refused import names at most this many of the rates that differ.
MAX_CLASHES_SHOWN = 10


async def company_currency(session: AsyncSession) -> str:
    """The currency the company reimburses in, as the database records it."""
    return str(await session.scalar(select(COMPANY_CURRENCY)))


@dataclass(frozen=True)
class Conversion:
    """A ticket's amount as spent and in the company's currency: the ticket columns
    `amount`, `currency`, `company_amount`, `exchange_rate` and `rate_date`."""

    amount: Decimal
    currency: str
    company_amount: Decimal
    exchange_rate: Decimal
    rate_date: date | None


class MissingRate(InvalidField):
    """No exchange rate of the currency is valid on the purchase date."""

    def __init__(self, currency: str, company: str, day: date) -> None:
        super().__init__(
            "currency",
            f"There is no exchange rate from {currency} to {company} valid on {day}, so "
            f"this ticket cannot be converted to {company}. An employer can add one "
            f"(Exchange rates in the console, or POST /api/exchange-rates) with a date "
            f"on or before {day}; or file the ticket in {company}.",
        )


def _latest_rate(currency: str, day: date) -> Select[Decimal, date]:
    return (
        select(ExchangeRate.rate, ExchangeRate.valid_from)
        .where(ExchangeRate.currency == currency, ExchangeRate.valid_from <= day)
        .order_by(ExchangeRate.valid_from.desc())
        .limit(1)
    )


async def convert(
    session: AsyncSession, company: str, amount: Decimal, currency: str, spent_on: date
) -> Conversion:
    """`amount` of `currency` spent on `spent_on`, in `company` (the company's currency)
    at the latest rate valid on that day, rounded half to even to the company's
    currency's decimals. InvalidField when the amount has more decimals than its
    currency, when no rate is valid (MissingRate), or when the converted amount is
    nothing or above MAX_AMOUNT."""
    if not in_minor_units(amount, currency):
        raise InvalidField("amount", minor_units_rule(currency))
    spent = to_minor_units(amount, currency)
    if currency == company:
        converted = Conversion(spent, currency, spent, Decimal(1), None)
    else:
        found = (await session.execute(_latest_rate(currency, spent_on))).first()
        if found is None:
            raise MissingRate(currency, company, spent_on)
        rate, valid_from = found
        # Multiplied exactly (the default context keeps 28 digits, which could round
        # before the half-even rounding to the company currency's minor unit).
        with localcontext(prec=EXACT_DIGITS):
            company_amount = to_minor_units(spent * rate, company)
        converted = Conversion(spent, currency, company_amount, rate, valid_from)
    if converted.company_amount <= 0:
        raise InvalidField(
            "amount",
            f"{money(spent, currency)} is less than the smallest amount of {company} "
            f"at the rate of {converted.rate_date} ({converted.exchange_rate}); it cannot be "
            "reimbursed.",
        )
    if converted.company_amount > MAX_AMOUNT:
        claimed = money(spent, currency)
        if currency != company:
            claimed += f" is {money(converted.company_amount, company)}, which is"
        raise InvalidField(
            "amount", f"{claimed} above the {money(MAX_AMOUNT, company)} one ticket may claim."
        )
    return converted


def company_money(value: Decimal | None, company: str, field: str) -> Decimal | None:
    """`value` (a policy limit, in the company's currency) written with the currency's
    decimals; InvalidField (`field`) if it has more."""
    if value is None:
        return None
    if not in_minor_units(value, company):
        raise InvalidField(field, minor_units_rule(company))
    return to_minor_units(value, company)


def _read(rate: ExchangeRate, company: str) -> ExchangeRateRead:
    by = rate.created_by
    return ExchangeRateRead(
        id=rate.id,
        currency=rate.currency,
        rate=rate.rate,
        company_currency=company,
        valid_from=rate.valid_from,
        created_at=rate.created_at,
        created_by=None if by is None else RecordedBy(id=by.id, username=by.username),
    )


async def list_rates(
    session: AsyncSession, currency: str | None = None, *, limit: int = 50, offset: int = 0
) -> ExchangeRatePage:
    """The recorded rates, latest first (of one currency, or of all)."""
    company = await company_currency(session)
    chosen = [] if currency is None else [ExchangeRate.currency == currency]
    rates = await session.scalars(
        select(ExchangeRate)
        .where(*chosen)
        .options(joinedload(ExchangeRate.created_by))
        .order_by(ExchangeRate.valid_from.desc(), ExchangeRate.currency, ExchangeRate.id)
        .limit(limit)
        .offset(offset)
    )
    total = await session.scalar(select(func.count()).select_from(ExchangeRate).where(*chosen))
    return ExchangeRatePage(
        items=[_read(rate, company) for rate in rates.all()],
        total=total or 0,
        limit=limit,
        offset=offset,
    )


async def currencies_with_rates(session: AsyncSession) -> list[str]:
    """The currencies that have a recorded rate, by code: one index probe per
    currency (a loose index scan), however many rates each has."""
    rates = ExchangeRate.__table__
    first = select(func.min(rates.c.currency).label("currency")).cte("codes", recursive=True)
    following = (
        select(rates.c.currency)
        .where(rates.c.currency > first.c.currency)
        .order_by(rates.c.currency)
        .limit(1)
        .scalar_subquery()
    )
    codes = first.union_all(select(following).where(first.c.currency.is_not(None)))
    found = await session.scalars(
        select(codes.c.currency).where(codes.c.currency.is_not(None)).order_by(codes.c.currency)
    )
    return list(found.all())


@dataclass
class Recorded:
    rate: ExchangeRateRead
    # False when the same rate was already recorded (the request is then a no-op).
    created: bool


async def add_rate(session: AsyncSession, employer: User, data: ExchangeRateCreate) -> Recorded:
    """Record a rate (employers only). The same rate for the same currency and day
    again changes nothing; another rate for them is a Conflict: rates are kept as
    recorded, since tickets were converted with them."""
    ensure_employer(employer, "record exchange rates")
    company = await company_currency(session)
    line = RateLine(line=1, currency=data.currency, rate=data.rate, valid_from=data.valid_from)
    added = await _record(session, company, [line], employer.id)
    stored = await session.scalar(
        select(ExchangeRate)
        .where(ExchangeRate.currency == data.currency, ExchangeRate.valid_from == data.valid_from)
        .options(joinedload(ExchangeRate.created_by))
    )
    assert stored is not None  # `_record` wrote it or found it
    return Recorded(_read(stored, company), created=bool(added))


async def import_rates(session: AsyncSession, lines: Sequence[RateLine]) -> RateImport:
    """Record the rates of a parsed rates file (`currencies.files`), all or none:
    rates already recorded with the same value are left as they are; one recorded with
    another value refuses the whole file (Conflict, naming each)."""
    company = await company_currency(session)
    added = await _record(session, company, lines, None)
    return RateImport(added=added, unchanged=len(lines) - added)


async def _record(
    session: AsyncSession, company: str, lines: Sequence[RateLine], by: int | None
) -> int:
    """Insert the rates that are new; Conflict if any (currency, day) already has
    another rate. How many were added."""
    if any(line.currency == company for line in lines):
        raise InvalidField(
            "currency", f"{company} is the company's currency: its rate is always 1."
        )
    # The file as three array parameters, however many lines (the ECB's history is
    # 200,000 rates: more than a statement's parameters could name one by one).
    given = (
        func.unnest(
            bindparam("currencies", [line.currency for line in lines], ARRAY(String)),
            bindparam("rates", [line.rate for line in lines], ARRAY(Numeric)),
            bindparam("days", [line.valid_from for line in lines], ARRAY(Date)),
        )
        .table_valued("currency", "rate", "valid_from")
        .render_derived(with_types=False)
    )
    # ON CONFLICT DO NOTHING waits for a concurrent writer of the same (currency, day):
    # the check below then reads what that writer committed.
    added = await session.scalars(
        insert(ExchangeRate)
        .from_select(
            ["currency", "rate", "valid_from", "created_by_id"],
            select(given.c.currency, given.c.rate, given.c.valid_from, literal(by, BigInteger)),
        )
        .on_conflict_do_nothing(index_elements=[ExchangeRate.currency, ExchangeRate.valid_from])
        .returning(ExchangeRate.id)
    )
    count = len(added.all())
    if count == len(lines):
        return count
    clashes = (
        await session.execute(
            select(given.c.currency, given.c.valid_from, ExchangeRate.rate, given.c.rate)
            .join(
                ExchangeRate,
                (ExchangeRate.currency == given.c.currency)
                & (ExchangeRate.valid_from == given.c.valid_from),
            )
            .where(ExchangeRate.rate != given.c.rate)
            .order_by(given.c.valid_from, given.c.currency)
            .limit(MAX_CLASHES_SHOWN + 1)
        )
    ).all()
    if clashes:
        shown = [
            f"{currency} from {day}: {recorded} is recorded, not {wanted}"
            for currency, day, recorded, wanted in clashes[:MAX_CLASHES_SHOWN]
        ]
        more = " and more" if len(clashes) > MAX_CLASHES_SHOWN else ""
        raise Conflict(
            "Rates are kept as recorded (tickets were converted with them), and these "
            f"differ: {'; '.join(shown)}{more}. Nothing was recorded. To correct a rate, "
            "record one from the next day."
        )
    return count
