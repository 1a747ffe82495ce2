"""Which tickets a viewer may see, and what of them every door shows: the one definition
that every list, lookup, update and export uses, built on the visibility rule
(`contoso.visibility`)."""

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    func,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by
from sqlalchemy.orm import aliased, contains_eager, joinedload
from sqlalchemy.orm.util import AliasedClass

from contoso.auth.queries import holds_token
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
from contoso.visibility import Owner, visible_owners

S = TypeVar("S", bound=Select[*tuple[Any, ...]])
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

    def apply(self, statement: S) -> S:
        conditions = []
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


def _receipts(ticket: TicketSource) -> Any:
    """The ticket's receipts, oldest first, as a JSON list of {id, filename,
    content_type, size} (`TicketRead.receipts`)."""
    described = func.jsonb_build_object(
        "id",
        Receipt.id,
        "filename",
        Receipt.filename,
        "content_type",
        Receipt.content_type,
        "size",
        Receipt.size,
    )
    listed = func.coalesce(
        func.jsonb_agg(aggregate_order_by(described, Receipt.id)), literal_column("'[]'::jsonb")
    )
    return type_coerce(
        select(listed).where(Receipt.ticket_id == ticket.id).scalar_subquery(), JSONB
    )


def ticket_columns(ticket: TicketSource = Ticket) -> list[Any]:
    """A ticket as every door shows it (see `TicketRead.from_row`): the ticket's own
    columns under their names; its owner's, decider's, payer's, payment's and category's,
    and those of the employer who last asked for changes, as joined by `_with_people`;
    and its receipts. `ticket` is the table, or an alias over a statement that returns
    ticket rows."""
    return [
        *(getattr(ticket, column.key) for column in Ticket.__table__.columns),
        Owner.username.label("owner_username"),
        Owner.email.label("owner_email"),
        Decider.username.label("decided_by_username"),
        Payer.username.label("paid_by_username"),
        Requester.username.label("changes_requested_by_username"),
        Payment.reference.label("payment_reference"),
        Category.name.label("category_name"),
        _receipts(ticket).label("receipts"),
    ]


def _visible(statement: S, ticket: TicketSource = Ticket) -> S:
    return visible_owners(statement, ticket.owner_id)


def _with_people(statement: S, ticket: TicketSource = Ticket) -> S:
    """The visible tickets in `statement`, with what `ticket_columns` reads joined."""
    return (
        _visible(statement, ticket)
        .join(Category, Category.id == ticket.category_id)
        .outerjoin(Decider, Decider.id == ticket.decided_by_id)
        .outerjoin(Payer, Payer.id == ticket.paid_by_id)
        .outerjoin(Requester, Requester.id == ticket.changes_requested_by_id)
        .outerjoin(Payment, Payment.id == ticket.payment_id)
    )


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


def bearer_tickets(filters: TicketFilters = NO_FILTERS) -> Select[Any]:
    """An employee's own visible tickets, found by their token (execute with
    `token_parameters`), as `ticket_columns` rows: the tickets and the token check in
    one statement.

    No rows means no tickets, a token that is no longer good, or an employer:
    the caller then resolves the token on its own.
    """
    return all_visible_tickets(filters).where(*holds_token(Owner), Owner.role == Role.EMPLOYEE)


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


def newest_first(statement: S) -> S:
    return statement.order_by(Ticket.created_at.desc(), Ticket.id.desc())
