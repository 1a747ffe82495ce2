"""The dashboard's stored totals beside a recount from the tickets table, written here
independently of the code that keeps them."""

from typing import Any

import asyncpg

# The first day of a date's month, without date_trunc (and the session's time zone).
_SPENT_MONTH = "(t.spent_on - (extract(day FROM t.spent_on)::int - 1))"
_DECIDED_DAY = "(t.decided_at AT TIME ZONE 'UTC')::date"
_DECIDED_MONTH = f"({_DECIDED_DAY} - (extract(day FROM {_DECIDED_DAY})::int - 1))"

_PENDING_RECOUNT = f"""
    SELECT t.owner_id, {_SPENT_MONTH} AS month, count(*) AS tickets, sum(t.amount) AS amount
    FROM tickets t WHERE t.status = 'pending' GROUP BY 1, 2
"""
_DECIDED_RECOUNT = f"""
    SELECT month, status, sum(spent_tickets) AS spent_tickets, sum(spent_amount) AS spent_amount,
           sum(decided_tickets) AS decided_tickets, sum(decided_amount) AS decided_amount
    FROM (
        SELECT {_SPENT_MONTH} AS month, t.status::text, 1 AS spent_tickets,
               t.amount AS spent_amount, 0 AS decided_tickets, 0 AS decided_amount
        FROM tickets t JOIN users u ON u.id = t.owner_id
        WHERE t.status <> 'pending' AND NOT u.suspended
        UNION ALL
        SELECT {_DECIDED_MONTH}, t.status::text, 0, 0, 1, t.amount
        FROM tickets t JOIN users u ON u.id = t.owner_id
        WHERE t.status <> 'pending' AND NOT u.suspended
    ) visible_decided
    GROUP BY 1, 2
"""


Totals = dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]


def _by_key(rows: list[asyncpg.Record]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    # Both tables have a two-column key.
    return {tuple(row)[:2]: tuple(row)[2:] for row in rows}


async def stored_and_recounted(connection: asyncpg.Connection) -> tuple[Totals, Totals]:
    """(stored, recounted): both tables' rows by key, as stored and as recounted.

    Every stored pending row is compared (an emptied row left behind is a difference);
    decided rows whose figures are all zero (an employee's suspended tickets taken out)
    are left out.
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
        "pending": _by_key(await connection.fetch(_PENDING_RECOUNT)),
        "decided": _by_key(await connection.fetch(_DECIDED_RECOUNT)),
    }
    return stored, recounted
