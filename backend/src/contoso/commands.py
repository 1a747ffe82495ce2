"""The async bodies of the CLI's account commands, written against the service layer."""

from datetime import date, timedelta
from decimal import Decimal

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from contoso.auth import service as auth
from contoso.auth.schemas import RegisterRequest
from contoso.auth.security import Security
from contoso.config import Settings
from contoso.currencies import service as currencies
from contoso.currencies.files import RateLine, RatesFileError, parse_rates
from contoso.currency_codes import exact_rate, to_minor_units
from contoso.database import create_database
from contoso.errors import ContosoError
from contoso.mail.sender import count_unsent, deliver_due, queue_digest, retry_failed
from contoso.mail.transport import transport_for
from contoso.models import Role, TicketStatus
from contoso.tickets import service as tickets
from contoso.tickets.schemas import TicketCreate

DEMO_PASSWORD = "contoso-demo-password"  # noqa: S105 (published on purpose; refused in production)
DEMO_EMPLOYER = "boss@example.com"
DEMO_EMPLOYEES = {
    "alice@example.com": "Alice",
    "bob@example.com": "Bob",
    "chen@example.com": "陈静",
}


async def create_employer(
    settings: Settings, email: str, username: str | None, password: str
) -> str:
    """Create an employer account; the message says what happened."""
    try:
        request = RegisterRequest(
            email=email,
            username=username or email.partition("@")[0],
            password=password,
            role=Role.EMPLOYER,
        )
    except ValidationError as exc:
        return "Not created: " + "; ".join(error["msg"] for error in exc.errors())
    database = create_database(settings)
    security = Security.from_settings(settings)
    try:
        async with database.sessionmaker.begin() as session:
            user = await auth.create_account(
                session, security.hasher, request, operator_created=True
            )
    except ContosoError as exc:
        return f"Not created: {exc.message}"
    finally:
        await database.dispose()
    return f"Employer {user.email} created (id {user.id}); log in at /admin."


async def import_rates(settings: Settings, text: str) -> tuple[str, bool]:
    """Record the rates of a rates file, all or none: what happened, and whether it
    succeeded."""
    database = create_database(settings)
    try:
        async with database.sessionmaker.begin() as session:
            company = await currencies.company_currency(session)
            try:
                lines = parse_rates(text, company)
            except RatesFileError as exc:
                return f"Nothing was recorded; the file has problems:\n{exc}", False
            report = await currencies.import_rates(session, lines)
    except ContosoError as exc:
        return exc.message, False
    finally:
        await database.dispose()
    return (
        f"{report.added} exchange rates recorded ({company} per unit), "
        f"{report.unchanged} already recorded.",
        True,
    )


async def send_mail(settings: Settings, *, retry: bool = False) -> tuple[str, bool]:
    """Queue the employers' digest if it is due, then send every due email once (with
    `retry`, the ones given up on too, first queued again): what happened, and whether
    the mail server could be reached."""
    database = create_database(settings)
    transport = transport_for(settings)
    try:
        retried = await retry_failed(database) if retry else 0
        digests = await queue_digest(database, settings)
        delivery = await deliver_due(database, transport, settings)
        waiting = await count_unsent(database)
    finally:
        await database.dispose()
    said = [f"{_emails(delivery.sent)} sent to {transport.describe()}."]
    if retry:
        said.insert(0, f"{_emails(retried)} given up on earlier queued again.")
    if digests:
        said.append(f"The digest of tickets waiting for a decision went to {digests} employers.")
    if delivery.server_down:
        said.append(f"The mail server cannot be reached: {delivery.server_down}.")
    elif delivery.failed:
        said.append(f"{_emails(delivery.failed)} failed (logged above).")
    if delivery.given_up:
        said.append(f"{_emails(delivery.given_up)} given up on: refused for too long.")
    if waiting:
        said.append(f"{_emails(waiting)} wait for a later attempt.")
    return "\n".join(said), delivery.server_down is None


def _emails(number: int) -> str:
    return "1 email" if number == 1 else f"{number} emails"


async def seed_demo(settings: Settings) -> str:
    """Add a demo employer, three employees and a mix of tickets; print how to log in."""
    if settings.is_production:
        return "Not seeded: demo accounts have a published password; refusing in production."
    database = create_database(settings)
    security = Security.from_settings(settings)
    try:
        async with database.sessionmaker.begin() as session:
            if await auth.find_user_by_email(session, DEMO_EMPLOYER):
                return f"Already seeded.\n{_credentials()}"
            boss = await auth.create_account(
                session,
                security.hasher,
                RegisterRequest(
                    email=DEMO_EMPLOYER,
                    username="Boss",
                    password=DEMO_PASSWORD,
                    role=Role.EMPLOYER,
                ),
            )
            today = date.today()
            company = await currencies.company_currency(session)
            rates = await _demo_rates(session, company, today - timedelta(days=60))
            for number, (email, name) in enumerate(DEMO_EMPLOYEES.items()):
                employee = await auth.create_account(
                    session,
                    security.hasher,
                    RegisterRequest(email=email, username=name, password=DEMO_PASSWORD),
                )
                for day, (amount, spent_in, text) in enumerate(_DEMO_SPEND[number::3]):
                    # In the company's own currency when there is no demo rate for it.
                    currency = spent_in if spent_in in rates else company
                    ticket = await tickets.file_ticket(
                        session,
                        employee,
                        TicketCreate(
                            spent_on=today - timedelta(days=3 * day + number),
                            amount=to_minor_units(Decimal(amount), currency),
                            currency=currency,
                            description=text,
                            links=["https://shop.example.com/orders/" + str(1000 + day)],
                        ),
                    )
                    if day == 1:
                        await tickets.decide_ticket(session, boss, ticket.id, TicketStatus.APPROVED)
                    if day == 2:
                        await tickets.decide_ticket(
                            session,
                            boss,
                            ticket.id,
                            TicketStatus.DENIED,
                            "Please attach the itemised receipt.",
                        )
    finally:
        await database.dispose()
    return f"Demo data added.\n{_credentials()}"


def _credentials() -> str:
    emails = ", ".join(DEMO_EMPLOYEES)
    return (
        f"  employer:  {DEMO_EMPLOYER}\n"
        f"  employees: {emails}\n"
        f"  password (all): {DEMO_PASSWORD}"
    )


# (amount, currency, what for): a currency without a demo rate is filed in the
# company's own.
_DEMO_SPEND = [
    ("42.50", "USD", "Taxi to the airport"),
    ("1280.00", "USD", "Flight to Shanghai, economy"),
    ("3400", "JPY", "Taxi from Haneda to the client's office"),
    ("15.00", "USD", "Printer paper"),
    ("268.00", "EUR", "Hotel in Lyon, two nights"),
    ("7.80", "USD", "Coffee with a candidate"),
    ("199.00", "USD", "Conference ticket"),
    ("58.00", "CNY", "Train to the office in Suzhou"),
    ("64.00", "USD", "Books for the team"),
]
# Illustrative values in US dollars, not market data: the demo's exchange rates are
# derived from them for whatever the company's currency is.
_DEMO_DOLLARS = {
    "USD": Decimal("1"),
    "EUR": Decimal("1.15"),
    "JPY": Decimal("0.0064"),
    "CNY": Decimal("0.14"),
}


async def _demo_rates(session: AsyncSession, company: str, valid_from: date) -> set[str]:
    """Record demo exchange rates into the company's currency; the currencies that
    can be filed in (the company's own among them)."""
    if company not in _DEMO_DOLLARS:
        return {company}
    lines = [
        RateLine(
            line=number,
            currency=code,
            rate=exact_rate(dollars / _DEMO_DOLLARS[company]),
            valid_from=valid_from,
        )
        for number, (code, dollars) in enumerate(_DEMO_DOLLARS.items(), start=1)
        if code != company
    ]
    await currencies.import_rates(session, lines)
    return set(_DEMO_DOLLARS)
