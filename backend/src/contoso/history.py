"""Writing the append-only history (the `events` table) alongside a change: the one writer."""

from typing import Any

from sqlalchemy import CTE, BigInteger, Insert, literal, null, select
from sqlalchemy.dialects.postgresql import insert

from contoso.models import Event, EventKind


def record_for_each(
    changed: CTE,
    kind: EventKind,
    actor_id: int,
    *,
    note: str | None = None,
    changes: dict[str, list[Any]] | None = None,
) -> Insert:
    """INSERT one `kind` event per id that the data-modifying CTE `changed` returns.

    Change and history go in one statement: neither can happen without the other.
    Ticket events point at `ticket_id`, employee events at `subject_id`; `changes`
    is an edit's {"field": [old, new]}.
    """
    target = "ticket_id" if kind.value.startswith("ticket_") else "subject_id"
    return (
        insert(Event)
        .from_select(
            ["kind", "actor_id", target, "note", "changes"],
            select(
                literal(kind, Event.kind.type),
                literal(actor_id, BigInteger),
                changed.c.id,
                literal(note, Event.note.type),
                # SQL NULL, not the JSON null a bound None would become.
                null() if changes is None else literal(changes, Event.changes.type),
            ),
        )
        .returning(getattr(Event, target))
    )
