"""The employee's list as PostgreSQL writes it (`queries.own_page_json`, the API's busiest
route) parses to the very page pydantic builds from `ticket_columns` rows, for tickets
of every status with every field generated: receipts, payments, foreign currencies,
tiny and huge rates, any Unicode."""

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contoso.config import Settings
from contoso.database import Driver, create_database
from contoso.models import (
    Category,
    Payment,
    Receipt,
    Role,
    Ticket,
    TicketFlag,
    TicketStatus,
    User,
)
from contoso.models.enums import UNDECIDED
from contoso.tickets.schemas import TicketPage, TicketRead
from contoso.tickets.service import _OWN_JSON_PAGES, _OWN_PAGES
from contoso.validation import EARLIEST_DATE

# Text PostgreSQL stores: any Unicode but NUL (and lone surrogates, which no encoding has).
_TEXT = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
texts = st.text(_TEXT, min_size=1, max_size=30)
# Times as PostgreSQL keeps them (microseconds), some on the second exactly.
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
) | st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda moment: moment.replace(microsecond=0, tzinfo=UTC)
)


def _decimals(smallest: str, largest: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=Decimal(smallest), max_value=Decimal(largest), allow_nan=False, places=None
    ).filter(lambda value: value > 0)


_TICKET = st.fixed_dictionaries(
    {
        "spent_on": st.dates(min_value=EARLIEST_DATE, max_value=date.today()),
        "amount": _decimals("0.001", "999999999999"),
        "currency": st.from_regex(r"[A-Z]{3}", fullmatch=True),
        "company_amount": _decimals("0.001", "999999999999"),
        # Company units per unit of the currency: from a weak currency's to a strong one's.
        "exchange_rate": _decimals("1E-12", "1E+12"),
        "rate_date": st.none() | st.dates(min_value=EARLIEST_DATE, max_value=date.today()),
        "description": texts,
        "links": st.lists(texts, max_size=3),
        "flags": st.lists(st.sampled_from([flag.value for flag in TicketFlag]), unique=True),
        "duplicate_of": st.lists(st.integers(1, 2**63 - 1), max_size=3),
        "status": st.sampled_from(list(TicketStatus)),
        "created_at": times,
        "updated_at": times,
        "decided_at": times,
        "decision_note": st.none() | texts,
        "changes_requested_at": st.none() | times,
        "changes_note": texts,
        "paid_at": times,
        "receipts": st.lists(
            st.fixed_dictionaries(
                {
                    "filename": texts,
                    "content_type": st.sampled_from(["image/jpeg", "application/pdf"]),
                    "size": st.integers(1, 2**40),
                }
            ),
            max_size=3,
        ),
    }
)


def _row(values: dict[str, Any], people: dict[str, int], payment: int) -> dict[str, Any]:
    """A ticket row for `values`, consistent with its status (the table's checks)."""
    status = values["status"]
    row = {key: value for key, value in values.items() if key != "receipts"}
    row |= {"owner_id": people["owner"], "category_id": people["category"]}
    if status in UNDECIDED:
        row |= {"decided_at": None, "decision_note": None}
    else:
        row["decided_by_id"] = people["boss"]
    if status is TicketStatus.CHANGES_REQUESTED and row["changes_requested_at"] is None:
        row["changes_requested_at"] = values["created_at"]
    if row["changes_requested_at"] is None:
        row["changes_note"] = None
    else:
        row["changes_requested_by_id"] = people["boss"]
    if status is TicketStatus.PAID:
        row |= {"payment_id": payment, "paid_by_id": people["boss"]}
    else:
        row["paid_at"] = None
    return row


async def _pages(
    connection: AsyncConnection, tickets: list[dict[str, Any]], people: dict[str, str]
) -> tuple[str, TicketPage]:
    """The owner's first page as PostgreSQL writes it, and as pydantic builds it."""

    async def person(role: Role, name: str) -> int:
        email = f"{role.value}@example.com"
        values = {"email": email, "username": name, "password_hash": "-", "role": role}
        return int(await connection.scalar(insert(User).values(values).returning(User.id)))

    ids = {
        "owner": await person(Role.EMPLOYEE, people["owner"]),
        "boss": await person(Role.EMPLOYER, people["boss"]),
    }
    category = insert(Category).values(name=people["category"]).returning(Category.id)
    ids["category"] = int(await connection.scalar(category))
    payment = await connection.scalar(
        insert(Payment)
        .values(reference=people["payment"], created_by_id=ids["boss"], tickets=1, total=1)
        .returning(Payment.id)
    )
    for values in tickets:
        ticket = await connection.scalar(
            insert(Ticket).values(_row(values, ids, payment)).returning(Ticket.id)
        )
        for receipt in values["receipts"]:
            await connection.execute(
                insert(Receipt).values(receipt | {"ticket_id": ticket, "sha256": "0" * 64})
            )
    parameters = {"owner_id": ids["owner"], "limit": 50, "offset": 0}
    # In the example's transaction: asyncpg runs it on the same connection.
    written = await Driver(
        await connection.get_raw_connection(), connection.sync_engine.pool
    ).fetchval(_OWN_JSON_PAGES[None], **parameters)
    rows = (await connection.execute(_OWN_PAGES[None], parameters)).mappings().all()
    built = TicketPage(
        items=[TicketRead.from_row(row) for row in rows],
        total=rows[0]["total"] if rows else 0,
        limit=50,
        offset=0,
    )
    return written, built


def test_the_page_postgresql_writes_parses_equal_to_the_one_pydantic_builds(
    settings: Settings,
):
    database = create_database(settings)

    async def check(tickets: list[dict[str, Any]], people: dict[str, str]) -> None:
        # Each example in a transaction rolled back: nothing stays for the next.
        async with database.engine.connect() as connection, connection.begin() as transaction:
            written, built = await _pages(connection, tickets, people)
            await transaction.rollback()

        assert len(built.items) == len(tickets)
        assert TicketPage.model_validate_json(written) == built

    @given(
        tickets=st.lists(_TICKET, min_size=0, max_size=4),
        people=st.fixed_dictionaries(
            {"owner": texts, "boss": texts, "category": texts, "payment": texts}
        ),
    )
    @examples(max_examples=60, deadline=None, database=None)
    def property(tickets: list[dict[str, Any]], people: dict[str, str]) -> None:
        runner.run(check(tickets, people))

    # A loop of its own, not made the thread's: the suite's async tests keep theirs.
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        try:
            property()
        finally:
            runner.run(database.engine.dispose())


async def test_the_api_list_writes_times_and_amounts_as_pydantic_does_but_a_tiny_rate(
    app, client, factory
):
    alice = await factory.employee()
    filed = await factory.ticket(alice, amount="1500")
    async with app.state.database.engine.begin() as connection:
        await connection.execute(
            Ticket.__table__.update()
            .where(Ticket.id == filed["id"])
            .values(exchange_rate=Decimal("0.00000067"), currency="VND")
        )
    alone = (await client.get(f"/api/tickets/{filed['id']}", headers=alice.headers)).json()
    listed = (await client.get("/api/tickets", headers=alice.headers)).json()["items"][0]

    # A time with microseconds, as pydantic writes it; amounts as text with their digits.
    assert listed["created_at"] == alone["created_at"]
    assert listed["created_at"].endswith("Z")
    assert listed["amount"] == alone["amount"] == "1500.00"
    # The one difference: pydantic writes a rate below a millionth with an exponent.
    assert (alone["exchange_rate"], listed["exchange_rate"]) == ("6.7E-7", "0.00000067")
    assert {key: value for key, value in listed.items() if key != "exchange_rate"} == {
        key: value for key, value in alone.items() if key != "exchange_rate"
    }
