"""The async bodies of the CLI's account commands, written against the service layer."""

from datetime import date, timedelta
from decimal import Decimal

from pydantic import ValidationError

from contoso.auth import service as auth
from contoso.auth.schemas import RegisterRequest
from contoso.auth.security import Security
from contoso.config import Settings
from contoso.database import create_database
from contoso.errors import ContosoError
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
            user = await auth.create_account(session, security.hasher, request)
    except ContosoError as exc:
        return f"Not created: {exc.message}"
    finally:
        await database.dispose()
    return f"Employer {user.email} created (id {user.id}); log in at /admin."


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
            for number, (email, name) in enumerate(DEMO_EMPLOYEES.items()):
                employee = await auth.create_account(
                    session,
                    security.hasher,
                    RegisterRequest(email=email, username=name, password=DEMO_PASSWORD),
                )
                for day, (amount, text) in enumerate(_DEMO_SPEND[number::3]):
                    ticket = await tickets.file_ticket(
                        session,
                        employee,
                        TicketCreate(
                            spent_on=today - timedelta(days=3 * day + number),
                            amount=Decimal(amount),
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


_DEMO_SPEND = [
    ("42.50", "Taxi to the airport"),
    ("1280.00", "Flight to Shanghai, economy"),
    ("89.90", "Team lunch with the client"),
    ("15.00", "Printer paper"),
    ("310.40", "Hotel, two nights"),
    ("7.80", "Coffee with a candidate"),
    ("199.00", "Conference ticket"),
    ("23.10", "Train to the office in Suzhou"),
    ("64.00", "Books for the team"),
]
