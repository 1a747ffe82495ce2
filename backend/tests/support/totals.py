"""The dashboard's stored totals beside a recount from the tickets table, written here
independently of the code that keeps them."""

from typing import Any

import asyncpg

from tests.support.databases import plain_url

# The first day of a date's month, without date_trunc (and the session's time zone).
_SPENT_MONTH = "(t.spent_on - (extract(day FROM t.spent_on)::int - 1))"
_DECIDED_DAY = "(t.decided_at AT TIME ZONE 'UTC')::date"
_DECIDED_MONTH = f"({_DECIDED_DAY} - (extract(day FROM {_DECIDED_DAY})::int - 1))"
_PAID_DAY = "(t.paid_at AT TIME ZONE 'UTC')::date"
_PAID_MONTH = f"({_PAID_DAY} - (extract(day FROM {_PAID_DAY})::int - 1))"

# The recounts, of `{amount}`: tickets.company_amount since currencies, tickets.amount before.
_PENDING_RECOUNT = f"""
    SELECT t.owner_id, {_SPENT_MONTH} AS month, count(*) AS tickets, sum(t.{{amount}}) AS amount
    FROM tickets t WHERE t.status = 'pending' GROUP BY 1, 2
"""
_DECIDED_RECOUNT = f"""
    SELECT month, status, sum(spent_tickets) AS spent_tickets, sum(spent_amount) AS spent_amount,
           sum(decided_tickets) AS decided_tickets, sum(decided_amount) AS decided_amount
    FROM (
        SELECT {_SPENT_MONTH} AS month, t.status::text, 1 AS spent_tickets,
               t.{{amount}} AS spent_amount, 0 AS decided_tickets, 0 AS decided_amount
        FROM tickets t JOIN users u ON u.id = t.owner_id
        WHERE t.status IN ('approved', 'denied', 'paid') AND NOT u.suspended
        UNION ALL
        SELECT {_DECIDED_MONTH}, t.status::text, 0, 0, 1, t.{{amount}}
        FROM tickets t JOIN users u ON u.id = t.owner_id
        WHERE t.status IN ('approved', 'denied', 'paid') AND NOT u.suspended
    ) visible_decided
    GROUP BY 1, 2
"""
# Paid tickets of visible employees, by the month (UTC) they were paid in.
_PAID_RECOUNT = f"""
    SELECT {_PAID_MONTH} AS month, count(*) AS tickets, sum(t.{{amount}}) AS amount
    FROM tickets t JOIN users u ON u.id = t.owner_id
    WHERE t.status = 'paid' AND NOT u.suspended
    GROUP BY 1
"""


Totals = dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]
COMPANY = "company_amount"


def _by_key(
    rows: list[asyncpg.Record], key_columns: int = 2
) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    return {tuple(row)[:key_columns]: tuple(row)[key_columns:] for row in rows}


async def stored_and_recounted(connection: asyncpg.Connection) -> tuple[Totals, Totals]:
    """(stored, recounted): the three tables' rows by key (`pending`, `decided` with
    paid tickets under status `paid`, and `paid` by month of payment), as stored and as
    recounted.

    Every stored pending row is compared (an emptied row left behind is a difference);
    decided and paid rows whose figures are all zero (an employee's suspended tickets
    taken out) are left out.
    """
    pending = await connection.fetch("SELECT owner_id, month, tickets, amount FROM pending_totals")
    decided = await connection.fetch(
        "SELECT month, status::text, spent_tickets, spent_amount, decided_tickets,"
        " decided_amount FROM decided_totals"
        " WHERE (spent_tickets, decided_tickets) <> (0, 0) OR spent_amount <> 0"
        " OR decided_amount <> 0"
    )
    stored = {"pending": _by_key(pending), "decided": _by_key(decided)}
    recounted = {
        "pending": _by_key(await connection.fetch(_PENDING_RECOUNT.format(amount=COMPANY))),
        "decided": _by_key(await connection.fetch(_DECIDED_RECOUNT.format(amount=COMPANY))),
    }
    # A database migrated to a revision before payments has no paid totals to compare.
    if await connection.fetchval("SELECT to_regclass('paid_totals') IS NOT NULL"):
        paid = await connection.fetch(
            "SELECT month, tickets, amount FROM paid_totals WHERE tickets <> 0 OR amount <> 0"
        )
        stored["paid"] = _by_key(paid, key_columns=1)
        recounted["paid"] = _by_key(
            await connection.fetch(_PAID_RECOUNT.format(amount=COMPANY)), key_columns=1
        )
    return stored, recounted


async def write_recount(connection: asyncpg.Connection, amount: str = COMPANY) -> None:
    """Replace the stored totals with a recount of the tickets' `amount` column
    (`amount` itself for a database from before currencies): the totals a database
    of that revision, kept by its services, would hold."""
    async with connection.transaction():
        await connection.execute("DELETE FROM pending_totals; DELETE FROM decided_totals")
        await connection.execute(
            "INSERT INTO pending_totals (owner_id, month, tickets, amount) "
            + _PENDING_RECOUNT.format(amount=amount)
        )
        await connection.execute(
            "INSERT INTO decided_totals (month, status, spent_tickets, spent_amount,"
            " decided_tickets, decided_amount)"
            " SELECT month, status::ticket_status, spent_tickets, spent_amount,"
            f" decided_tickets, decided_amount FROM ({_DECIDED_RECOUNT.format(amount=amount)}) d"
        )
        if await connection.fetchval("SELECT to_regclass('paid_totals') IS NOT NULL"):
            await connection.execute("DELETE FROM paid_totals")
            await connection.execute(
                "INSERT INTO paid_totals (month, tickets, amount) "
                + _PAID_RECOUNT.format(amount=amount)
            )


async def assert_totals_match_a_recount(database_url: str) -> None:
    """The stored dashboard totals are what a recount of the tickets gives."""
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        stored, recounted = await stored_and_recounted(connection)
    finally:
        await connection.close()
    assert stored == recounted
