"""Writing the append-only history (the `events` table) alongside a change: the one writer."""

from typing import Any

from sqlalchemy import CTE, BigInteger, ColumnElement, Insert, literal, null, select
from sqlalchemy.dialects.postgresql import insert

from contoso.models import Event, EventKind


def record_for_each(
    changed: CTE,
    kind: EventKind,
    actor_id: int | ColumnElement[int],
    *,
    note: str | None = None,
    changes: dict[str, list[Any]] | None = None,
) -> Insert:
    """INSERT one `kind` event per id that the data-modifying CTE `changed` returns.

    Change and history go in one statement: neither can happen without the other.
    Ticket events point at `ticket_id`, employee events at `subject_id`; `changes`
    is an edit's {"field": [old, new]}. `actor_id` may be a bound parameter of a
    statement built once.
    """
    actor = actor_id if isinstance(actor_id, ColumnElement) else literal(actor_id, BigInteger)
    target = "ticket_id" if kind.value.startswith("ticket_") else "subject_id"
    return (
        insert(Event)
        .from_select(
            ["kind", "actor_id", target, "note", "changes"],
            select(
                literal(kind, Event.kind.type),
                actor,
                changed.c.id,
                literal(note, Event.note.type),
                # SQL NULL, not the JSON null a bound None would become.
                null() if changes is None else literal(changes, Event.changes.type),
            ),
        )
        .returning(getattr(Event, target))
    )
