"""Which tickets a viewer may see, and what of them every door shows: the one definition
that every list, lookup, update and export uses, built on the visibility rule
(`contoso.visibility`)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    Text,
    bindparam,
    case,
    cast,
    false,
    func,
    literal_column,
    null,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by
from sqlalchemy.orm import aliased, contains_eager, joinedload
from sqlalchemy.orm.util import AliasedClass

from contoso.models import (
    Category,
    Payment,
    Receipt,
    Ticket,
    TicketFlag,
    TicketStatus,
    User,
)
from contoso.tickets.schemas import NESTED, TicketPage, TicketRead
from contoso.visibility import Owner, visible_owners

StatementT = TypeVar("StatementT", bound=Select[*tuple[Any, ...]])
# The tickets table itself, or an alias of it over a statement that returns ticket rows.
TicketSource = type[Ticket] | AliasedClass[Ticket]

# The decider, payer and requester as joined here (the owner as `visibility` joins it);
# any other join of `users` needs its own alias.
Decider = aliased(User, name="decider")
Payer = aliased(User, name="payer")
Requester = aliased(User, name="requester")


@dataclass(frozen=True)
class TicketFilters:
    """What a list of tickets is narrowed to; None: not narrowed."""

    status: TicketStatus | None = None
    category_id: int | None = None
    # One flag, or with `flagged` any (True) or none (False).
    flag: TicketFlag | None = None
    flagged: bool | None = None
    # One owner's tickets (an employer's own, among all they see).
    owner_id: int | None = None

    def apply(self, statement: StatementT) -> StatementT:
        conditions = []
        if self.owner_id is not None:
            conditions.append(Ticket.owner_id == self.owner_id)
        if self.status is not None:
            conditions.append(Ticket.status == self.status)
        if self.category_id is not None:
            conditions.append(Ticket.category_id == self.category_id)
        if self.flag is not None:
            conditions.append(Ticket.flags.contains([self.flag.value]))
        if self.flagged is not None:
            # Spelt as the partial index `ix_tickets_flagged_recent` is.
            flagged = Ticket.flags != literal_column("'{}'")
            conditions.append(flagged if self.flagged else ~flagged)
        return statement.where(*conditions)

    @property
    def by_status_only(self) -> bool:
        return self == TicketFilters(status=self.status)


def _json_object(fields: dict[str, Any], build: Any = func.json_build_object) -> ColumnElement[Any]:
    """`json_build_object` (or `build`) of these fields; their names are our own
    identifiers, written into the statement."""
    pairs: list[Any] = []
    for name, value in fields.items():
        pairs += [literal_column(f"'{name}'"), value]
    built: ColumnElement[Any] = build(*pairs)
    return built


def _receipts(ticket: TicketSource) -> Any:
    """The ticket's receipts, oldest first, as a JSON list of {id, filename,
    content_type, size} (`TicketRead.receipts`)."""
    described = _json_object(
        {
            "id": Receipt.id,
            "filename": Receipt.filename,
            "content_type": Receipt.content_type,
            "size": Receipt.size,
        },
        func.jsonb_build_object,
    )
    listed = func.coalesce(
        func.jsonb_agg(aggregate_order_by(described, Receipt.id)), literal_column("'[]'::jsonb")
    )
    return type_coerce(
        select(listed).where(Receipt.ticket_id == ticket.id).scalar_subquery(), JSONB
    )


# Where each of `TicketRead`'s nested objects is read from: the table as joined here,
# and the ticket's key to it (NULL: none, an outer join).
_JOINED: dict[str, tuple[Any, str]] = {
    "owner": (Owner, "owner_id"),
    "category": (Category, "category_id"),
    "decided_by": (Decider, "decided_by_id"),
    "changes_requested_by": (Requester, "changes_requested_by_id"),
    "paid_by": (Payer, "paid_by_id"),
    "payment": (Payment, "payment_id"),
}
# `TicketRead`'s fields that are not the ticket's own columns, each read by SQL of its own.
_COMPUTED = {"receipts": _receipts}
if set(_JOINED) != set(NESTED):
    raise RuntimeError(f"TicketRead nests {sorted(NESTED)}; ticket_columns joins {sorted(_JOINED)}")


def ticket_columns(ticket: TicketSource = Ticket) -> list[Any]:
    """A ticket as every door shows it, derived from `TicketRead` (see `from_row`): each
    field of its own under its name, each nested object's fields as `<field>__<name>`
    (the id is the ticket's key), the receipts computed; over `ticket`, the table or an
    alias over a statement that returns ticket rows. `_with_people` joins what it reads."""
    columns: list[Any] = []
    for name in TicketRead.model_fields:
        if name in NESTED:
            table, key = _JOINED[name]
            columns += [
                (getattr(ticket, key) if field == "id" else getattr(table, field)).label(
                    f"{name}__{field}"
                )
                for field in NESTED[name].model_fields
            ]
        elif name in _COMPUTED:
            columns.append(_COMPUTED[name](ticket).label(name))
        else:
            columns.append(getattr(ticket, name))
    return columns


def ticket_json(ticket: TicketSource = Ticket) -> ColumnElement[Any]:
    """`ticket_columns` as one JSON object, as the API writes a `TicketRead`, built by
    PostgreSQL from the same fields and joins: a decimal as a string (pydantic writes
    one so, keeping its digits), a nested object null when its key is. Its text is not
    pydantic's byte for byte (the key order in receipts; a rate below a millionth, which
    pydantic writes `6.7E-7` and PostgreSQL `0.00000067`): it parses to the same
    ticket (tests/tickets/test_ticket_json.py)."""
    fields: dict[str, Any] = {}
    for name, field in TicketRead.model_fields.items():
        if name in NESTED:
            table, key = _JOINED[name]
            nested = _json_object(
                {
                    inner: getattr(ticket, key) if inner == "id" else getattr(table, inner)
                    for inner in NESTED[name].model_fields
                }
            )
            if Ticket.__table__.c[key].nullable:
                nested = case((getattr(ticket, key).is_(None), null()), else_=nested)
            fields[name] = nested
        elif name in _COMPUTED:
            fields[name] = _COMPUTED[name](ticket)
        elif field.annotation is Decimal:
            fields[name] = cast(getattr(ticket, name), Text)
        elif field.annotation in (datetime, datetime | None):
            fields[name] = _utc_time(getattr(ticket, name))
        else:
            fields[name] = getattr(ticket, name)
    return _json_object(fields)


def _utc_time(moment: Any) -> ColumnElement[str]:
    """A time as pydantic writes one read from the database: in UTC, with six digits of
    microseconds unless it has none (`2026-01-02T03:04:05.267680Z`, `...05Z`)."""
    utc = moment.op("AT TIME ZONE")(literal_column("'UTC'"))
    written = func.to_char(utc, literal_column("""'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'"""))
    return func.replace(written, literal_column("'.000000Z'"), literal_column("'Z'"))


def _visible(statement: StatementT, ticket: TicketSource = Ticket) -> StatementT:
    return visible_owners(statement, ticket.owner_id)


def _with_people(statement: StatementT, ticket: TicketSource = Ticket) -> StatementT:
    """The visible tickets in `statement`, with what `ticket_columns` reads joined (the
    owner by `_visible`; each optional one outer joined)."""
    joined = _visible(statement, ticket)
    for table, key in _JOINED.values():
        if table is not Owner:
            on = table.id == getattr(ticket, key)
            nullable = Ticket.__table__.c[key].nullable
            joined = joined.outerjoin(table, on) if nullable else joined.join(table, on)
    return joined


NO_FILTERS = TicketFilters()


def _seen_by(viewer: User) -> list[ColumnElement[bool]]:
    # Employers see every visible ticket; employees only their own.
    return [] if viewer.is_employer else [Ticket.owner_id == viewer.id]


def visible_tickets(viewer: User, filters: TicketFilters = NO_FILTERS) -> Select[Any]:
    """The tickets `viewer` may see, as `ticket_columns` rows."""
    return all_visible_tickets(filters).where(*_seen_by(viewer))


def all_visible_tickets(filters: TicketFilters = NO_FILTERS) -> Select[Any]:
    """Every visible ticket, as `ticket_columns` rows: what employers see."""
    return filters.apply(_with_people(select(*ticket_columns()).select_from(Ticket)))


def filed_ticket(inserted: TicketSource) -> Select[Any]:
    """The `ticket_columns` row of a ticket that `inserted` (an alias over an
    INSERT ... RETURNING in the same statement) has just written."""
    return _with_people(select(*ticket_columns(inserted)).select_from(inserted), inserted)


def own_tickets(filters: TicketFilters = NO_FILTERS) -> Select[Any]:
    """The visible tickets of the employee whose id the statement is executed with
    (`owner_id`), as `ticket_columns` rows: `visible_tickets` for them, built once."""
    return all_visible_tickets(filters).where(
        Ticket.owner_id == bindparam("owner_id", type_=BigInteger)
    )


def own_page_json(filters: TicketFilters = NO_FILTERS) -> Select[Any]:
    """A page of the visible tickets of the employee whose id the statement is executed
    with (`owner_id`), newest first, from `offset`, `limit` of them: the API's whole
    `TicketPage` as JSON text, built by PostgreSQL (`ticket_json`)."""
    owned = Ticket.owner_id == bindparam("owner_id", type_=BigInteger)
    limit, offset = bindparam("limit", type_=Integer), bindparam("offset", type_=Integer)
    page = (
        newest_first(
            filters.apply(
                _with_people(
                    select(ticket_json().label("ticket"), Ticket.created_at, Ticket.id)
                    .select_from(Ticket)
                    .where(owned)
                )
            )
        )
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    newest = aggregate_order_by(page.c.ticket, page.c.created_at.desc(), page.c.id.desc())
    # An uncorrelated subquery, run once, over the ids alone (no joins to read).
    total = select(func.count()).select_from(
        all_visible_ticket_ids(filters).where(owned).subquery()
    )
    fields = {
        "items": func.coalesce(func.json_agg(newest), literal_column("'[]'::json")),
        "total": total.scalar_subquery(),
        "total_is_estimate": false(),
        "limit": limit,
        "offset": offset,
    }
    if set(fields) != set(TicketPage.model_fields):
        raise RuntimeError(
            f"TicketPage has {sorted(TicketPage.model_fields)}; not {sorted(fields)}"
        )
    # As text: SQLAlchemy has the connection decode JSON, which the response would re-encode.
    return select(cast(_json_object(fields), Text)).select_from(page)


def visible_ticket_ids(viewer: User, filters: TicketFilters = NO_FILTERS) -> Select[int]:
    return all_visible_ticket_ids(filters).where(*_seen_by(viewer))


def all_visible_ticket_ids(filters: TicketFilters = NO_FILTERS) -> Select[int]:
    return filters.apply(_visible(select(Ticket.id)))


def count_visible_tickets(viewer: User, filters: TicketFilters = NO_FILTERS) -> Select[int]:
    statement = _visible(select(func.count()).select_from(Ticket)).where(*_seen_by(viewer))
    return filters.apply(statement)


def all_visible_ticket_models() -> Select[Ticket]:
    """Every visible ticket as ORM objects with owner and decider loaded.

    Only for the console's SQLAdmin grid, whose identifiers, sorting and filters
    work on mapped instances; its cells show the same fields as `ticket_columns`.
    """
    return _visible(select(Ticket)).options(
        contains_eager(Ticket.owner.of_type(Owner)),
        joinedload(Ticket.decided_by),
        joinedload(Ticket.category),
    )


def newest_first(statement: StatementT) -> StatementT:
    return statement.order_by(Ticket.created_at.desc(), Ticket.id.desc())
