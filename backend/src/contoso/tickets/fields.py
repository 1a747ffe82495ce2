"""A ticket's fields as people read them, for every door: each field's label, declared
once as its title on `TicketRead` (by default its name in words), and the order a door
lists them in. A door names the fields whose place it fixes and puts every other field
where it says `REST`, so a new field of `TicketRead` shows everywhere without a door
being edited."""

from collections.abc import Collection, Sequence

from contoso.tickets.schemas import TicketRead

# In a door's order: where the fields it does not name go, in `TicketRead`'s order.
REST = "..."


def label(name: str) -> str:
    """`TicketRead`'s field `name` as a label: `Spent on`, `Rate valid from`. An input's
    `<x>_id` (`category_id`) reads as `<x>`."""
    fields = TicketRead.model_fields
    field = fields.get(name) or fields[name.removesuffix("_id")]
    assert field.title, "TicketRead titles every field (field_title_generator)"
    return field.title


def arranged(order: Sequence[str], leave_out: Collection[str] = ()) -> list[str]:
    """`TicketRead`'s field names in `order`, with every field it does not name (nor
    `leave_out`) where `order` says REST, or at the end; ValueError for a name that is
    not one of its fields, so a renamed field fails where the door is defined."""
    fields = list(TicketRead.model_fields)
    unknown = ({*order, *leave_out} - {REST}) - set(fields)
    if unknown:
        raise ValueError(f"TicketRead has no field {', '.join(sorted(unknown))}")
    rest = [name for name in fields if name not in {*order, *leave_out}]
    named = list(order) if REST in order else [*order, REST]
    at = named.index(REST)
    return [*named[:at], *rest, *named[at + 1 :]]
