"""Writing the append-only history (the `events` table) alongside a change."""

from sqlalchemy import CTE, BigInteger, Insert, literal, select
from sqlalchemy.dialects.postgresql import insert

from contoso.models import Event, EventKind


def record_for_each(
    changed: CTE, kind: EventKind, actor_id: int, note: str | None = None
) -> Insert:
    """INSERT one `kind` event per id that the data-modifying CTE `changed` returns.

    Change and history go in one statement: neither can happen without the other.
    Ticket events point at `ticket_id`, employee events at `subject_id`.
    """
    target = "ticket_id" if kind.value.startswith("ticket_") else "subject_id"
    return (
        insert(Event)
        .from_select(
            ["kind", "actor_id", target, "note"],
            select(
                literal(kind, Event.kind.type),
                literal(actor_id, BigInteger),
                changed.c.id,
                literal(note, Event.note.type),
            ),
        )
        .returning(getattr(Event, target))
    )
