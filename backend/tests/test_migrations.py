"""The migrations build the schema the models describe, and undo it cleanly."""

import asyncio

import asyncpg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from contoso import flags
from contoso.auth.invitation_codes import code_hash
from contoso.bootstrap import CurrencyMismatch, alembic_config, migrate
from contoso.main import create_app
from contoso.models import Base, Ticket, User
from tests.support.databases import plain_url, recreate_database, scratch_name
from tests.support.totals import Totals, stored_and_recounted, write_recount


def fresh_scratch(database_url: str) -> str:
    """An empty scratch database of this test run's own, beside its test database."""
    name = scratch_name(database_url, "migration_check")
    return asyncio.run(recreate_database(database_url, name))


def test_upgrade_downgrade_upgrade_round_trips(database_url):
    scratch = fresh_scratch(database_url)

    migrate(scratch)
    command.downgrade(alembic_config(scratch), "base")
    migrate(scratch)

    assert asyncio.run(_drift(scratch)) == []


async def _drift(url: str) -> list:
    """What autogenerate would change: empty when migrations and models agree."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await engine.dispose()


def test_the_history_table_refuses_updates_and_deletes(database_url):
    async def attempt() -> list[str]:
        connection = await asyncpg.connect(plain_url(database_url))
        errors = []
        try:
            user = await connection.fetchval(
                "INSERT INTO users (email, username, password_hash, role) "
                "VALUES ('h@example.com', 'h', 'x', 'employer') RETURNING id"
            )
            await connection.execute(
                "INSERT INTO events (kind, actor_id, subject_id) "
                "VALUES ('employee_suspended', $1, $1)",
                user,
            )
            for statement in ("UPDATE events SET note = 'rewritten'", "DELETE FROM events"):
                try:
                    await connection.execute(statement)
                except asyncpg.RaiseError as exc:
                    errors.append(str(exc))
        finally:
            await connection.execute("TRUNCATE events, tickets, users RESTART IDENTITY CASCADE")
            await connection.close()
        return errors

    errors = asyncio.run(attempt())

    assert errors == ["the ticket and employee history is append-only"] * 2


# The head before the dashboard's totals, and the revision that adds and fills them.
BEFORE_TOTALS, TOTALS = "88466338fe01", "fdc3663cbb6a"


def test_the_totals_migration_counts_the_tickets_already_there(database_url):
    scratch = fresh_scratch(database_url)
    migrate(scratch, BEFORE_TOTALS)
    asyncio.run(_tickets_of_every_kind(scratch))

    migrate(scratch, TOTALS)

    # Recounted by today's rule (in the company's currency, which later migrations add).
    migrate(scratch)
    stored, recounted = asyncio.run(_stored_and_recounted(scratch))
    assert stored == recounted
    # Something was counted: pending tickets, and decided ones of visible employees.
    assert len(stored["pending"]) == 6
    assert {status for _, status in stored["decided"]} == {"approved", "denied"}


async def _tickets_of_every_kind(url: str) -> None:
    """Tickets as the previous version stored them: three employees (one suspended), each
    with pending, approved and denied tickets over two months, decided in two months."""
    connection = await asyncpg.connect(plain_url(url))
    try:
        boss = await connection.fetchval(
            "INSERT INTO users (email, username, password_hash, role) "
            "VALUES ('boss@example.com', 'Boss', 'x', 'employer') RETURNING id"
        )
        await connection.execute("""
            INSERT INTO users (email, username, password_hash, role, suspended, suspended_at)
            SELECT 'e' || n || '@example.com', 'E' || n, 'x', 'employee', n = 3,
                   CASE WHEN n = 3 THEN now() END
            FROM generate_series(1, 3) n
            """)
        # Bought either side of a month's end, decided either side of another (UTC).
        await connection.execute(
            """
            INSERT INTO tickets (owner_id, spent_on, amount, description, status,
                                 decided_by_id, decided_at)
            SELECT u.id, DATE '2026-01-31' + (n % 2) * 2, 10.25 * n, 'Lunch', s::ticket_status,
                   CASE WHEN s <> 'pending' THEN $1::bigint END,
                   CASE WHEN s <> 'pending'
                        THEN TIMESTAMPTZ '2026-02-28 23:30:00+00' + n * INTERVAL '10 minutes'
                   END
            FROM users u, generate_series(1, 4) n,
                 unnest(ARRAY['pending', 'approved', 'denied']) s
            WHERE u.role = 'employee'
            """,
            boss,
        )
    finally:
        await connection.close()


async def _stored_and_recounted(url: str) -> tuple[Totals, Totals]:
    connection = await asyncpg.connect(plain_url(url))
    try:
        return await stored_and_recounted(connection)
    finally:
        await connection.close()


# The head before categories, receipts and flags, and the revision that adds them.
BEFORE_CATEGORIES, CATEGORIES = TOTALS, "6c1003d293a5"


def test_the_categories_migration_files_existing_tickets_under_general_and_flags_duplicates(
    database_url, settings
):
    scratch = fresh_scratch(database_url)
    migrate(scratch, BEFORE_CATEGORIES)
    users, tickets = asyncio.run(_round_one_tickets(scratch))

    migrate(scratch, CATEGORIES)

    migrated = asyncio.run(_migrated_tickets(scratch))
    [general] = migrated["categories"]
    assert (general["name"], general["is_default"], general["active"]) == ("General", True, True)
    rows = migrated["tickets"]
    assert {row["category_id"] for row in rows.values()} == {general["id"]}
    flagged = {name: (rows[i]["flags"], rows[i]["duplicate_of"]) for name, i in tickets.items()}
    # The identical pending pair names each other; the denied copy is counted by neither.
    assert flagged["twin"] == (["possible_duplicate"], [tickets["other twin"]])
    assert flagged["other twin"] == (["possible_duplicate"], [tickets["twin"]])
    for name in ("next day", "other amount", "bob's same purchase", "bob's approved"):
        assert flagged[name] == ([], []), name
    # Migrated on to the newest schema: exactly what the app's own rule computes for
    # every ticket, the denied one included, and the app reads them as any ticket.
    migrate(scratch)
    assert asyncio.run(_recomputed_flags(scratch)) == {
        row["id"]: (row["flags"], row["duplicate_of"]) for row in rows.values()
    }
    seen = asyncio.run(_read_through_the_api(settings, scratch, users, tickets))
    assert seen["twin"]["category"] == {"id": general["id"], "name": "General"}
    assert (seen["twin"]["flags"], seen["twin"]["receipts"]) == (["possible_duplicate"], [])
    assert seen["listed duplicates"] == [tickets["other twin"], tickets["twin"]]


def test_accounts_from_round_one_are_not_operator_created(database_url):
    # SSO_ONLY keeps password login for employers `contoso create-employer` made; no
    # earlier account is taken for one (nothing changes until SSO_ONLY is turned on).
    scratch = fresh_scratch(database_url)
    migrate(scratch, BEFORE_CATEGORIES)
    asyncio.run(_round_one_tickets(scratch))

    migrate(scratch)

    assert asyncio.run(_operator_created(scratch)) == [False, False, False]


async def _operator_created(url: str) -> list[bool]:
    connection = await asyncpg.connect(plain_url(url))
    try:
        rows = await connection.fetch("SELECT operator_created FROM users ORDER BY id")
    finally:
        await connection.close()
    return [row["operator_created"] for row in rows]


async def _round_one_tickets(url: str) -> tuple[dict[str, int], dict[str, int]]:
    """Users and tickets as round one stored them (no category, no flags), by a name for
    each: two identical pending tickets of Alice, a denied third copy, near misses, and
    Bob's."""
    connection = await asyncpg.connect(plain_url(url))
    try:
        boss = await connection.fetchval(
            "INSERT INTO users (email, username, password_hash, role) "
            "VALUES ('boss@example.com', 'Boss', 'x', 'employer') RETURNING id"
        )
        alice, bob = [
            await connection.fetchval(
                "INSERT INTO users (email, username, password_hash, role) "
                "VALUES ($1, $2, 'x', 'employee') RETURNING id",
                f"{name.lower()}@example.com",
                name,
            )
            for name in ("Alice", "Bob")
        ]
        rows = [
            ("twin", alice, "2026-01-10", "42.00", "pending"),
            ("other twin", alice, "2026-01-10", "42.00", "pending"),
            ("denied copy", alice, "2026-01-10", "42.00", "denied"),
            ("next day", alice, "2026-01-11", "42.00", "pending"),
            ("other amount", alice, "2026-01-10", "42.01", "pending"),
            ("bob's same purchase", bob, "2026-01-10", "42.00", "pending"),
            ("bob's approved", bob, "2026-01-12", "7.00", "approved"),
        ]
        tickets = {}
        for name, owner, spent_on, amount, status in rows:
            tickets[name] = await connection.fetchval(
                """
                INSERT INTO tickets (owner_id, spent_on, amount, description, links, status,
                                     decided_by_id, decided_at)
                VALUES ($1, $2::text::date, $3::text::numeric, $4, ARRAY['https://x.example'],
                        $5::text::ticket_status,
                        CASE WHEN $5 <> 'pending' THEN $6::bigint END,
                        CASE WHEN $5 <> 'pending' THEN now() END)
                RETURNING id
                """,
                owner,
                spent_on,
                amount,
                name,
                status,
                boss,
            )
        return {"alice": alice, "boss": boss}, tickets
    finally:
        await connection.close()


async def _migrated_tickets(url: str) -> dict:
    connection = await asyncpg.connect(plain_url(url))
    try:
        categories = await connection.fetch(
            "SELECT id, name, is_default, active FROM categories ORDER BY id"
        )
        tickets = await connection.fetch(
            "SELECT id, category_id, flags, duplicate_of FROM tickets ORDER BY id"
        )
    finally:
        await connection.close()
    return {
        "categories": [dict(row) for row in categories],
        "tickets": {row["id"]: dict(row) for row in tickets},
    }


async def _recomputed_flags(url: str) -> dict[int, tuple[list[str], list[int]]]:
    """Every ticket's flags as `flags.refresh` computes them (rolled back after)."""
    engine = create_async_engine(url)
    try:
        async with AsyncSession(engine) as session:
            ids = (await session.scalars(select(Ticket.id))).all()
            await flags.refresh(session, ids)
            rows = await session.execute(select(Ticket.id, Ticket.flags, Ticket.duplicate_of))
            recomputed = {row.id: (row.flags, row.duplicate_of) for row in rows}
            await session.rollback()
            return recomputed
    finally:
        await engine.dispose()


async def _read_through_the_api(
    settings, url: str, users: dict[str, int], tickets: dict[str, int]
) -> dict:
    """The app on the migrated database: Alice's view of a ticket, and the employer's
    list of pending possible duplicates (ids)."""
    app = create_app(settings.model_copy(update={"database_url": url}))
    # Round one's users have no usable password: tokens are issued for them directly.
    codec = app.state.security.tokens
    alice = codec.issue(User(id=users["alice"], token_version=0))
    boss = codec.issue(User(id=users["boss"], token_version=0))
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
            twin = await http.get(
                f"/api/tickets/{tickets['twin']}", headers={"Authorization": f"Bearer {alice}"}
            )
            assert twin.status_code == 200, twin.text
            listed = await http.get(
                "/api/tickets?flag=possible_duplicate&status=pending",
                headers={"Authorization": f"Bearer {boss}"},
            )
            assert listed.status_code == 200, listed.text
    finally:
        await app.state.database.dispose()
    return {
        "twin": twin.json(),
        "listed duplicates": [ticket["id"] for ticket in listed.json()["items"]],
    }


# The head before payments, and the revision that adds them.
BEFORE_PAYMENTS, PAYMENTS = CATEGORIES, "c394a05e43ea"
PAYMENT_COLUMNS = ("payment_id", "paid_at", "paid_by_id")
# The head before currencies, and the revision that adds them.
BEFORE_CURRENCIES, CURRENCIES = PAYMENTS, "3f0e6a1b2c4d"
# The head before conversations (changes requested, comments, the outbox), and after.
BEFORE_CONVERSATION, CONVERSATION = CURRENCIES, "7d2b9e41c5a8"
# The head before invitations gained a role (employees invited), and after.
BEFORE_INVITATIONS, INVITATIONS = CONVERSATION, "3f98d728e544"
# The newest revision, whichever it is: a downgrade refused rolls back to it.
HEAD = ScriptDirectory.from_config(alembic_config("")).get_current_head()


def test_the_payments_migration_leaves_every_ticket_as_it_was_and_unpaid(database_url, settings):
    scratch = fresh_scratch(database_url)
    migrate(scratch, BEFORE_PAYMENTS)
    users = asyncio.run(_categorised_tickets(scratch))
    before = asyncio.run(_stored_rows(scratch))

    migrate(scratch, PAYMENTS)

    after = asyncio.run(_stored_rows(scratch))
    assert {
        ticket_id: {column: row.pop(column) for column in PAYMENT_COLUMNS}
        for ticket_id, row in after["tickets"].items()
    } == dict.fromkeys(before["tickets"], dict.fromkeys(PAYMENT_COLUMNS))
    assert after["tickets"] == before["tickets"]  # every other column as it was
    assert after["totals"] == before["totals"]
    assert after["paid_totals"] == []
    # Migrated on, the app lists them as any ticket, unpaid, and can pay an approved one.
    migrate(scratch)
    seen = asyncio.run(_listed_then_paid(settings, scratch, users))
    assert seen["listed"] == {
        ticket_id: (row["status"], None, None, None)
        for ticket_id, row in before["tickets"].items()
        if row["owner_id"] != users["suspended"]
    }
    assert seen["payment"].status_code == 201, seen["payment"].text
    assert seen["payment"].json()["paid"] == [
        ticket_id
        for ticket_id, row in before["tickets"].items()
        if (row["owner_id"], row["status"]) == (users["alice"], "approved")
    ]


def test_downgrading_past_payments_is_refused_once_a_ticket_is_paid(database_url, settings):
    scratch = fresh_scratch(database_url)
    migrate(scratch, BEFORE_PAYMENTS)
    users = asyncio.run(_categorised_tickets(scratch))
    before = asyncio.run(_stored_rows(scratch))
    migrate(scratch)

    # Nothing paid yet: the way back is open, and loses nothing.
    command.downgrade(alembic_config(scratch), BEFORE_PAYMENTS)
    assert asyncio.run(_stored_rows(scratch)) == before
    migrate(scratch)
    paid = asyncio.run(_listed_then_paid(settings, scratch, users))["payment"]
    assert paid.status_code == 201, paid.text

    with pytest.raises(DBAPIError, match="tickets have been paid; downgrading would lose that"):
        command.downgrade(alembic_config(scratch), BEFORE_PAYMENTS)

    after = asyncio.run(_stored_rows(scratch))
    assert after["revision"] == HEAD  # the whole downgrade rolled back
    # Alice's two approved tickets stay paid; Sam's, hidden, stays approved.
    statuses = [row["status"] for row in after["tickets"].values()]
    assert statuses == ["pending", "paid", "paid", "denied", "approved"]
    assert after["payments"] == 1


async def _categorised_tickets(url: str) -> dict[str, int]:
    """Users and tickets as the categories revision stored them, written with SQL: a
    boss; Alice, with pending, approved and denied tickets under General; and Sam,
    suspended, with an approved one."""
    connection = await asyncpg.connect(plain_url(url))
    try:
        boss = await connection.fetchval(
            "INSERT INTO users (email, username, password_hash, role) "
            "VALUES ('boss@example.com', 'Boss', 'x', 'employer') RETURNING id"
        )
        alice, sam = [
            await connection.fetchval(
                "INSERT INTO users (email, username, password_hash, role, suspended,"
                " suspended_at) VALUES ($1, $2, 'x', 'employee', $3,"
                " CASE WHEN $3 THEN now() END) RETURNING id",
                f"{name.lower()}@example.com",
                name,
                name == "Sam",
            )
            for name in ("Alice", "Sam")
        ]
        await connection.execute(
            """
            INSERT INTO tickets (owner_id, spent_on, amount, description, links, category_id,
                                 status, decided_by_id, decided_at, decision_note)
            SELECT owner, DATE '2026-01-10' + n, 10.50 + n, 'Lunch ' || n,
                   ARRAY['https://x.example'], (SELECT id FROM categories WHERE is_default),
                   s::ticket_status,
                   CASE WHEN s <> 'pending' THEN $3::bigint END,
                   CASE WHEN s <> 'pending'
                        THEN TIMESTAMPTZ '2026-02-01 09:00+00' + n * INTERVAL '1 hour'
                   END,
                   CASE WHEN s = 'denied' THEN 'No receipt' END
            FROM (VALUES ($1::bigint, 'pending', 1), ($1, 'approved', 2), ($1, 'approved', 3),
                         ($1, 'denied', 4), ($2::bigint, 'approved', 5)) AS t (owner, s, n)
            """,
            alice,
            sam,
            boss,
        )
        # Some running totals, as the categories revision kept them.
        await connection.execute(
            "INSERT INTO decided_totals VALUES ('2026-01-01', 'approved', 2, 25.00, 0, 0),"
            " ('2026-02-01', 'approved', 0, 0, 2, 25.00)"
        )
    finally:
        await connection.close()
    return {"boss": boss, "alice": alice, "suspended": sam}


async def _stored_rows(url: str) -> dict:
    """The tickets by id (every column), the running totals, the paid totals (None
    when there is no such table), the payments and the revision."""
    connection = await asyncpg.connect(plain_url(url))
    try:
        tickets = await connection.fetch("SELECT * FROM tickets ORDER BY id")
        totals = await connection.fetch(
            "SELECT 'decided', month, status::text, spent_tickets, decided_tickets"
            " FROM decided_totals UNION ALL"
            " SELECT 'pending', month, owner_id::text, tickets, 0 FROM pending_totals"
            " ORDER BY 1, 2, 3"
        )
        paying = await connection.fetchval("SELECT to_regclass('payments') IS NOT NULL")
        return {
            "revision": await connection.fetchval("SELECT version_num FROM alembic_version"),
            "tickets": {row["id"]: dict(row) for row in tickets},
            "totals": [tuple(row) for row in totals],
            "paid_totals": (
                [tuple(row) for row in await connection.fetch("SELECT * FROM paid_totals")]
                if paying
                else None
            ),
            "payments": (
                await connection.fetchval("SELECT count(*) FROM payments") if paying else None
            ),
        }
    finally:
        await connection.close()


async def _listed_then_paid(settings, url: str, users: dict[str, int]) -> dict:
    """The app on the migrated database: the employer's list (status and payment
    fields by id), then a payment of the approved tickets listed."""
    app = create_app(settings.model_copy(update={"database_url": url}))
    # Tokens are issued directly: these users have no usable password.
    boss = app.state.security.tokens.issue(User(id=users["boss"], token_version=0))
    headers = {"Authorization": f"Bearer {boss}"}
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
            listed = await http.get("/api/tickets", headers=headers)
            assert listed.status_code == 200, listed.text
            tickets = listed.json()["items"]
            approved = [ticket["id"] for ticket in tickets if ticket["status"] == "approved"]
            payment = await http.post(
                "/api/payments", json={"ticket_ids": approved}, headers=headers
            )
    finally:
        await app.state.database.dispose()
    return {
        "listed": {
            ticket["id"]: (
                ticket["status"],
                ticket["paid_at"],
                ticket["paid_by"],
                ticket["payment"],
            )
            for ticket in tickets
        },
        "payment": payment,
    }


# What the currencies revision adds to each ticket, and what existing ones get.
CONVERSION_COLUMNS = ("currency", "company_amount", "exchange_rate", "rate_date")


def test_the_currencies_migration_keeps_every_amount_in_the_company_currency(
    database_url, settings
):
    scratch = fresh_scratch(database_url)
    migrate(scratch, BEFORE_CURRENCIES)
    users = asyncio.run(_paid_and_limited(scratch))
    before = asyncio.run(_money_as_stored(scratch))

    migrate(scratch, CURRENCIES)

    after = asyncio.run(_money_as_stored(scratch))
    assert after["company"] == "USD"
    added = {
        ticket_id: {column: row.pop(column) for column in CONVERSION_COLUMNS}
        for ticket_id, row in after["tickets"].items()
    }
    assert added == {
        ticket_id: {
            "currency": "USD",
            "company_amount": row["amount"],
            "exchange_rate": "1",
            "rate_date": None,
        }
        for ticket_id, row in before["tickets"].items()
    }
    # Every amount, limit and total as it was, to its written decimals ("12.50").
    assert after == before | {"company": "USD", "revision": CURRENCIES}
    assert {row["amount"] for row in after["tickets"].values()} == {
        "11.50",
        "12.50",
        "13.50",
        "14.50",
        "15.50",
    }
    assert after["limits"] == [("General", None, None), ("Travel", "100.00", "25.00")]
    assert after["payments"] == [(1, "12.50")]
    # Migrated on: by today's rule, in company amounts, the totals add up, and the app
    # reads them as tickets in dollars, and owes and pays the same.
    migrate(scratch)
    stored, recounted = asyncio.run(_stored_and_recounted(scratch))
    assert stored == recounted
    seen = asyncio.run(_seen_by_the_app(settings, scratch, users))
    assert {
        ticket["id"]: (ticket["amount"], *(ticket[column] for column in CONVERSION_COLUMNS))
        for ticket in seen["tickets"]
    } == {
        ticket_id: (row["amount"], "USD", row["amount"], "1", None)
        for ticket_id, row in before["tickets"].items()
        if row["owner_id"] != users["suspended"]
    }
    assert seen["me"]["owed"] == {"tickets": 1, "amount": "13.50", "currency": "USD"}
    assert seen["me"]["paid_this_year"] == {"tickets": 1, "amount": "12.50", "currency": "USD"}
    assert (seen["payment"]["total"], seen["payment"]["currency"]) == ("12.50", "USD")


def test_a_company_in_euros_migrates_its_tickets_as_euros_and_keeps_that_currency(
    database_url,
):
    scratch = fresh_scratch(database_url)
    migrate(scratch, BEFORE_CURRENCIES)
    asyncio.run(_paid_and_limited(scratch))

    migrate(scratch, CURRENCIES, currency="EUR")

    after = asyncio.run(_money_as_stored(scratch))
    assert after["company"] == "EUR"
    assert {
        (row["currency"], row["company_amount"] == row["amount"])
        for row in after["tickets"].values()
    } == {("EUR", True)}
    # Started again with another COMPANY_CURRENCY (USD by default), it refuses, and says
    # what to set; with the recorded one it goes on.
    with pytest.raises(CurrencyMismatch) as refused:
        migrate(scratch)
    assert str(refused.value) == (
        "COMPANY_CURRENCY is USD, but this database's amounts are in EUR. Set "
        "COMPANY_CURRENCY=EUR: the company currency is fixed when the database is created."
    )
    with pytest.raises(CurrencyMismatch, match="Set COMPANY_CURRENCY=EUR"):
        migrate(scratch, currency="GBP")
    migrate(scratch, currency="EUR")
    assert asyncio.run(_money_as_stored(scratch))["company"] == "EUR"


def test_downgrading_past_currencies_is_refused_once_a_ticket_is_in_another_currency(
    database_url, settings
):
    scratch = fresh_scratch(database_url)
    migrate(scratch, BEFORE_CURRENCIES)
    users = asyncio.run(_paid_and_limited(scratch))
    before = asyncio.run(_money_as_stored(scratch))
    migrate(scratch)

    # Every ticket in dollars: the way back is open, and loses nothing.
    command.downgrade(alembic_config(scratch), BEFORE_CURRENCIES)
    assert asyncio.run(_money_as_stored(scratch)) == before
    migrate(scratch)
    filed = asyncio.run(_filed_in_euros(settings, scratch, users))
    assert filed.status_code == 201, filed.text

    with pytest.raises(RuntimeError, match="1 ticket is in another currency than the company's"):
        command.downgrade(alembic_config(scratch), BEFORE_CURRENCIES)

    after = asyncio.run(_money_as_stored(scratch))
    assert after["revision"] == HEAD  # the whole downgrade rolled back
    euros = after["tickets"][filed.json()["id"]]
    assert (euros["currency"], euros["amount"], euros["company_amount"]) == (
        "EUR",
        "10.00",
        "11.00",
    )


async def _paid_and_limited(url: str) -> dict[str, int]:
    """`_categorised_tickets`, with a category "Travel" with limits holding the pending
    ticket, one of Alice's approved tickets paid, and the dashboard's totals as the
    services of that revision kept them."""
    users = await _categorised_tickets(url)
    connection = await asyncpg.connect(plain_url(url))
    try:
        await connection.execute("""
            WITH travel AS (
                INSERT INTO categories (name, max_amount, receipt_required_above)
                VALUES ('Travel', 100.00, 25.00) RETURNING id
            )
            UPDATE tickets SET category_id = (SELECT id FROM travel) WHERE status = 'pending'
            """)
        await connection.execute(
            """
            WITH payment AS (
                INSERT INTO payments (reference, created_by_id, tickets, total)
                VALUES ('RUN-1', $1, 1, 12.50) RETURNING id
            )
            UPDATE tickets SET status = 'paid', payment_id = (SELECT id FROM payment),
                               paid_at = now(), paid_by_id = $1
            WHERE owner_id = $2 AND amount = 12.50
            """,
            users["boss"],
            users["alice"],
        )
        await write_recount(connection, "amount")
    finally:
        await connection.close()
    return users


async def _money_as_stored(url: str) -> dict:
    """Every money figure as PostgreSQL writes it (text: its decimals show): the
    tickets by id (amounts, owner, and the conversion once there is one), the category
    limits, the payments, the dashboard's totals, the company currency and revision."""
    connection = await asyncpg.connect(plain_url(url))
    try:
        has_company = await connection.fetchval("SELECT to_regclass('company') IS NOT NULL")
        conversion = (
            ", currency, company_amount::text, exchange_rate::text, rate_date"
            if has_company
            else ""
        )
        tickets = await connection.fetch(
            f"SELECT id, owner_id, status::text, amount::text{conversion} FROM tickets"
            " ORDER BY id"
        )
        limits = await connection.fetch(
            "SELECT name, max_amount::text, receipt_required_above::text FROM categories"
            " ORDER BY name"
        )
        payments = await connection.fetch("SELECT tickets, total::text FROM payments")
        totals = await connection.fetch(
            "SELECT 'pending', month, owner_id::text, tickets, amount::text, ''"
            " FROM pending_totals UNION ALL"
            " SELECT 'decided', month, status::text, spent_tickets, spent_amount::text,"
            " decided_amount::text FROM decided_totals UNION ALL"
            " SELECT 'paid', month, '', tickets, amount::text, '' FROM paid_totals"
            " ORDER BY 1, 2, 3"
        )
        return {
            "revision": await connection.fetchval("SELECT version_num FROM alembic_version"),
            "company": (
                await connection.fetchval("SELECT currency FROM company") if has_company else None
            ),
            "tickets": {row["id"]: dict(row) for row in tickets},
            "limits": [tuple(row) for row in limits],
            "payments": [tuple(row) for row in payments],
            "totals": [tuple(row) for row in totals],
        }
    finally:
        await connection.close()


async def _seen_by_the_app(settings, url: str, users: dict[str, int]) -> dict:
    """The app on the migrated database: the employer's ticket list, Alice's
    `/api/users/me`, and the payment."""
    app = create_app(settings.model_copy(update={"database_url": url}))
    tokens = app.state.security.tokens
    boss = {"Authorization": f"Bearer {tokens.issue(User(id=users['boss'], token_version=0))}"}
    alice = {"Authorization": f"Bearer {tokens.issue(User(id=users['alice'], token_version=0))}"}
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
            listed = await http.get("/api/tickets", headers=boss)
            me = await http.get("/api/users/me", headers=alice)
            payments = await http.get("/api/payments", headers=boss)
    finally:
        await app.state.database.dispose()
    for response in (listed, me, payments):
        assert response.status_code == 200, response.text
    [payment] = payments.json()["items"]
    return {"tickets": listed.json()["items"], "me": me.json(), "payment": payment}


async def _filed_in_euros(settings, url: str, users: dict[str, int]):
    """The app on the migrated database: the boss records a euro rate, and Alice files
    10 euros at it (11 dollars)."""
    app = create_app(settings.model_copy(update={"database_url": url}))
    tokens = app.state.security.tokens
    boss = {"Authorization": f"Bearer {tokens.issue(User(id=users['boss'], token_version=0))}"}
    alice = {"Authorization": f"Bearer {tokens.issue(User(id=users['alice'], token_version=0))}"}
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
            rate = await http.post(
                "/api/exchange-rates",
                json={"currency": "EUR", "rate": "1.1", "valid_from": "2026-01-01"},
                headers=boss,
            )
            assert rate.status_code == 201, rate.text
            return await http.post(
                "/api/tickets",
                json={
                    "spent_on": "2026-01-20",
                    "amount": "10.00",
                    "currency": "EUR",
                    "description": "Taxi",
                },
                headers=alice,
            )
    finally:
        await app.state.database.dispose()


def test_the_conversation_migration_leaves_tickets_as_they_were_and_guards_the_way_back(
    database_url, settings
):
    scratch = fresh_scratch(database_url)
    migrate(scratch, BEFORE_CURRENCIES)
    users = asyncio.run(_paid_and_limited(scratch))
    migrate(scratch, BEFORE_CONVERSATION)
    before = asyncio.run(_money_as_stored(scratch))

    migrate(scratch, CONVERSATION)

    after = asyncio.run(_money_as_stored(scratch))
    assert after == before | {"revision": CONVERSATION}
    assert asyncio.run(_conversation_state(scratch)) == {
        "requested": 0,
        "notified": len(users),
        "digest": None,
        "comments": 0,
        "outbox": 0,
    }
    # A ticket sent back for changes has no state before this revision: no way back.
    pending = asyncio.run(_sent_back(settings, scratch, users))
    with pytest.raises(RuntimeError, match="1 ticket is sent back for changes"):
        command.downgrade(alembic_config(scratch), BEFORE_CONVERSATION)
    assert asyncio.run(_money_as_stored(scratch))["revision"] == CONVERSATION
    asyncio.run(_resubmitted(settings, scratch, users, pending))
    command.downgrade(alembic_config(scratch), BEFORE_CONVERSATION)
    assert asyncio.run(_money_as_stored(scratch))["revision"] == BEFORE_CONVERSATION


async def _conversation_state(url: str) -> dict:
    connection = await asyncpg.connect(plain_url(url))
    try:
        return {
            "requested": await connection.fetchval(
                "SELECT count(*) FROM tickets WHERE changes_requested_at IS NOT NULL"
            ),
            "notified": await connection.fetchval(
                "SELECT count(*) FROM users WHERE email_notifications"
            ),
            "digest": await connection.fetchval("SELECT last_digest_at FROM company"),
            "comments": await connection.fetchval("SELECT count(*) FROM ticket_comments"),
            "outbox": await connection.fetchval("SELECT count(*) FROM outbox_emails"),
        }
    finally:
        await connection.close()


async def _as(settings, url: str, user_id: int, method: str, path: str, **kwargs):
    """One request to the app on `url`, as the user `user_id`."""
    app = create_app(settings.model_copy(update={"database_url": url}))
    token = app.state.security.tokens.issue(User(id=user_id, token_version=0))
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
            response = await http.request(
                method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs
            )
    finally:
        await app.state.database.dispose()
    assert response.status_code == 200, response.text
    return response.json()


async def _sent_back(settings, url: str, users: dict[str, int]) -> int:
    """The boss sends Alice's pending ticket back; its id."""
    listed = await _as(settings, url, users["alice"], "GET", "/api/tickets?status=pending")
    ticket = listed["items"][0]["id"]
    path = f"/api/tickets/{ticket}/request-changes"
    await _as(settings, url, users["boss"], "POST", path, json={"note": "Receipt, please"})
    return ticket


async def _resubmitted(settings, url: str, users: dict[str, int], ticket: int) -> None:
    await _as(settings, url, users["alice"], "POST", f"/api/tickets/{ticket}/resubmit")


def test_the_invitations_migration_keeps_round_one_invitations_for_employers(
    database_url, settings
):
    scratch = fresh_scratch(database_url)
    migrate(scratch, BEFORE_INVITATIONS)
    boss, codes = asyncio.run(_round_one_invitations(scratch))

    migrate(scratch, INVITATIONS)

    rows = asyncio.run(_invitations_as_stored(scratch))
    assert {row["role"] for row in rows.values()} == {"employer"}
    # Of lee's two open invitations, the older is revoked when the newer was made.
    assert rows["lee, older"]["revoked_at"] == rows["lee, newer"]["created_at"]
    assert [name for name, row in rows.items() if row["revoked_at"]] == ["lee, older"]
    # The app on the migrated database (today's app, on today's schema: registering
    # writes every column `users` has now): the newer code registers an employer, the
    # older does not; a new employee invitation is emailed.
    migrate(scratch)
    seen = asyncio.run(_registered_and_invited(settings, scratch, boss, codes))
    assert seen["older"].status_code == 403
    assert seen["newer"].status_code == 201, seen["newer"].text
    assert seen["newer"].json()["user"]["role"] == "employer"
    assert seen["invited"].status_code == 201, seen["invited"].text
    assert seen["employer"].json()["role"] == "employer"

    # Back: the employee invitation expires rather than become an employer's (the revoked
    # one too, rather than come back), and the emails to no user go.
    command.downgrade(alembic_config(scratch), BEFORE_INVITATIONS)
    after = asyncio.run(_open_after_downgrade(scratch))
    assert after == {"open": ["jo@example.com"], "emails to no one": 0}


async def _round_one_invitations(url: str) -> tuple[int, dict[str, str]]:
    """Employer invitations as earlier versions stored them: two open ones for one email
    (those versions allowed it), a used one, and an expired one; the boss's id, and
    the codes by name."""
    connection = await asyncpg.connect(plain_url(url))
    codes = {"lee, older": "AAAA-BBBB-CCC2", "lee, newer": "AAAA-BBBB-CCC3"}
    try:
        boss = await connection.fetchval(
            "INSERT INTO users (email, username, password_hash, role) "
            "VALUES ('boss@example.com', 'Boss', 'x', 'employer') RETURNING id"
        )
        ana = await connection.fetchval(
            "INSERT INTO users (email, username, password_hash, role) "
            "VALUES ('ana@example.com', 'Ana', 'x', 'employer') RETURNING id"
        )
        rows = [
            ("lee, older", "lee@example.com", "2 days", "5 days", None),
            ("lee, newer", "lee@example.com", "1 day", "6 days", None),
            ("ana's, used", "ana@example.com", "3 days", "4 days", ana),
            ("kim's, expired", "kim@example.com", "8 days", "-1 day", None),
        ]
        for name, email, age, left, used_by in rows:
            await connection.execute(
                """
                INSERT INTO invitations (email, code_hash, invited_by_id, created_at,
                                         expires_at, used_at, used_by_id)
                VALUES ($1, $2, $3, now() - $4::text::interval, now() + $5::text::interval,
                        CASE WHEN $6::bigint IS NOT NULL THEN now() END, $6)
                """,
                email,
                code_hash(codes.get(name, name)),
                boss,
                age,
                left,
                used_by,
            )
    finally:
        await connection.close()
    return boss, codes


async def _invitations_as_stored(url: str) -> dict[str, dict]:
    connection = await asyncpg.connect(plain_url(url))
    try:
        rows = await connection.fetch(
            "SELECT email, role::text, created_at, revoked_at, used_at FROM invitations"
            " ORDER BY created_at"
        )
    finally:
        await connection.close()
    names = ["kim's, expired", "ana's, used", "lee, older", "lee, newer"]
    return {name: dict(row) for name, row in zip(names, rows, strict=True)}


async def _registered_and_invited(settings, url: str, boss: int, codes: dict[str, str]) -> dict:
    app = create_app(settings.model_copy(update={"database_url": url}))
    token = app.state.security.tokens.issue(User(id=boss, token_version=0))
    lee = {"email": "lee@example.com", "username": "Lee", "password": "a long passphrase"}
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
            older = await http.post(
                "/api/auth/register", json=lee | {"invitation_code": codes["lee, older"]}
            )
            newer = await http.post(
                "/api/auth/register", json=lee | {"invitation_code": codes["lee, newer"]}
            )
            headers = {"Authorization": f"Bearer {token}"}
            invited = await http.post(
                "/api/invitations",
                json={"email": "mei@example.com", "role": "employee"},
                headers=headers,
            )
            # As clients of earlier versions ask: the email alone, for an employer.
            employer = await http.post(
                "/api/invitations", json={"email": "jo@example.com"}, headers=headers
            )
    finally:
        await app.state.database.dispose()
    return {"older": older, "newer": newer, "invited": invited, "employer": employer}


async def _open_after_downgrade(url: str) -> dict:
    connection = await asyncpg.connect(plain_url(url))
    try:
        still_open = await connection.fetch(
            "SELECT email FROM invitations WHERE used_at IS NULL AND expires_at > now()"
            " ORDER BY email"
        )
        emails = await connection.fetchval(
            "SELECT count(*) FROM outbox_emails WHERE user_id IS NULL"
        )
    finally:
        await connection.close()
    return {"open": [row["email"] for row in still_open], "emails to no one": emails}
