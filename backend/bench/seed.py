"""Seed a benchmark database fast, in SQL: 10,000 employees, 5 employers, 1M tickets."""

import time

import asyncpg
from sqlalchemy.ext.asyncio import create_async_engine

from contoso.dashboard import totals
from contoso.embedded import to_asyncpg_url
from contoso.tickets.workflow import COUNTED_IN

EMPLOYEES = 10_000
EMPLOYERS = 5
TICKETS = 1_000_000
# Every 50th employee is suspended: their tickets stay in the table, hidden.
SUSPENDED_EVERY = 50
PASSWORD = "bench-password-1234"

TICKET_INDEXES = ("ix_tickets_owner_recent", "ix_tickets_recent", "ix_tickets_status_recent")
EVENT_INDEXES = ("ix_events_recent", "ix_events_subject", "ix_events_ticket")


async def seed(url: str, password_hash: str) -> dict[str, float]:
    """Fill an empty, migrated database; returns seconds per step."""
    timings: dict[str, float] = {}
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("SET synchronous_commit = off; SET maintenance_work_mem = '256MB'")
        # Indexes are rebuilt once after the load: much faster than per row.
        definitions = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY($1::text[])",
            list(TICKET_INDEXES + EVENT_INDEXES),
        )
        for row in definitions:
            await connection.execute(f'DROP INDEX "{row["indexname"]}"')

        started = time.perf_counter()
        await connection.execute(
            """
            INSERT INTO users (email, username, password_hash, role, created_at)
            SELECT 'boss' || g || '@bench.example.com', 'Boss ' || g, $1, 'employer',
                   now() - interval '3 years'
            FROM generate_series(1, $2::int) g;
            """,
            password_hash,
            EMPLOYERS,
        )
        await connection.execute(
            """
            INSERT INTO users (email, username, password_hash, role, suspended, suspended_at,
                               created_at)
            SELECT 'employee' || g || '@bench.example.com', 'Employee ' || g, $1, 'employee',
                   g % $3 = 0, CASE WHEN g % $3 = 0 THEN now() END,
                   now() - interval '3 years' + g * interval '1 minute'
            FROM generate_series(1, $2::int) g;
            """,
            password_hash,
            EMPLOYEES,
            SUSPENDED_EVERY,
        )
        timings["users"] = time.perf_counter() - started

        started = time.perf_counter()
        # Two years of tickets. Older ones are mostly decided (80% approved); the last
        # month is mostly pending, as at any month's end.
        await connection.execute(
            """
            WITH staff AS (
                SELECT array_agg(id ORDER BY id) AS employees,
                       (SELECT min(id) FROM users WHERE role = 'employer') AS boss
                FROM users WHERE role = 'employee'
            ), raw AS (
                SELECT g,
                       staff.employees[
                           1 + (g::bigint * 7919) % array_length(staff.employees, 1)
                       ] AS owner,
                       staff.boss,
                       now() - random() * interval '730 days' AS created,
                       random() AS roll
                FROM generate_series(1, $1::int) g, staff
            ), shaped AS (
                SELECT *,
                       CASE
                           WHEN created > now() - interval '30 days' THEN
                               CASE WHEN roll < 0.6 THEN 'pending'
                                    WHEN roll < 0.9 THEN 'approved' ELSE 'denied' END
                           WHEN roll < 0.8 THEN 'approved' ELSE 'denied'
                       END::ticket_status AS state
                FROM raw
            )
            INSERT INTO tickets (owner_id, spent_on, amount, currency, company_amount,
                                 exchange_rate, description, links, category_id,
                                 status, decided_by_id, decided_at, decision_note, created_at,
                                 updated_at)
            SELECT owner,
                   (created - (roll * 6)::int * interval '1 day')::date,
                   round((5 + roll * 495)::numeric, 2),
                   (SELECT currency FROM company),
                   round((5 + roll * 495)::numeric, 2),
                   1,
                   'Expense ' || g || ': taxi, hotel or lunch',
                   ARRAY['https://receipts.example.com/' || g],
                   (SELECT id FROM categories WHERE is_default),
                   state,
                   CASE WHEN state <> 'pending' THEN boss END,
                   CASE WHEN state <> 'pending'
                        THEN least(created + interval '2 days', now()) END,
                   CASE WHEN state = 'denied' THEN 'Receipt missing' END,
                   created, created
            FROM shaped;
            """,
            TICKETS,
        )
        timings["tickets"] = time.perf_counter() - started

        started = time.perf_counter()
        await connection.execute("""
            INSERT INTO events (kind, actor_id, ticket_id, created_at)
            SELECT 'ticket_created', owner_id, id, created_at FROM tickets;
            INSERT INTO events (kind, actor_id, ticket_id, note, created_at)
            SELECT CASE status WHEN 'approved' THEN 'ticket_approved'::event_kind
                               ELSE 'ticket_denied'::event_kind END,
                   decided_by_id, id, decision_note, decided_at
            FROM tickets WHERE status <> 'pending';
            """)
        timings["history"] = time.perf_counter() - started

        started = time.perf_counter()
        for row in definitions:
            await connection.execute(row["indexdef"])
        timings["indexes"] = time.perf_counter() - started

        # The dashboard's totals, which the services keep, for tickets loaded around them.
        started = time.perf_counter()
        engine = create_async_engine(to_asyncpg_url(url))
        try:
            async with engine.begin() as totals_connection:
                await totals.recount(totals_connection, COUNTED_IN)
        finally:
            await engine.dispose()
        timings["dashboard totals"] = time.perf_counter() - started

        started = time.perf_counter()
        await connection.execute("VACUUM ANALYZE")
        timings["analyze"] = time.perf_counter() - started
    finally:
        await connection.close()
    return timings
