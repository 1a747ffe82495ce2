"""The policy flags: what an employer should look at before approving a ticket.

The one definition of `over_limit`, `receipt_missing` and `possible_duplicate`, as SQL
expressions: filing computes them in its INSERT, every later change (an edit, a receipt
added or removed, a denial, a category's new policy) with `refresh`. They are stored on
the ticket (`flags`, `duplicate_of`) so lists can filter on them.

Every change that refreshes flags first holds the owners' rows (`hold_owners`), in id
order: an employee's changes then never interleave, so flags are computed from committed
data, and a refresh that reaches another ticket of the same owner cannot deadlock.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Select,
    Text,
    Update,
    and_,
    any_,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    null,
    select,
    text,
    tuple_,
    union,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from contoso.database import any_of
from contoso.models import EDITABLE, Category, Receipt, Ticket, TicketFlag, TicketStatus, User

# A ticket names at most this many of the tickets it may duplicate (the oldest): enough
# to judge, and an employee's hundredth identical coffee does not rewrite the other 99.
MAX_DUPLICATES_SHOWN = 20

_Other = aliased(Ticket, name="other")


def possible_duplicates(
    owner_id: Any, spent_on: Any, amount: Any, currency: Any, ticket_id: Any = None
) -> ColumnElement[list[int]]:
    """The ids of the owner's other non-denied tickets with the same date, amount and
    currency, or (for an existing ticket, `ticket_id`) a receipt with the same SHA-256;
    oldest first."""
    # Correlated explicitly: inside a derived table SQLAlchemy does not do it alone.
    same_purchase = (
        select(_Other.id)
        .where(
            _Other.owner_id == owner_id,
            _Other.spent_on == spent_on,
            _Other.amount == amount,
            _Other.currency == currency,
            _Other.status != TicketStatus.DENIED,
        )
        .correlate(Ticket)
    )
    matches: Select[Any] | CompoundSelect[Any]
    if ticket_id is None:  # being filed: it has no receipts yet
        matches = same_purchase
    else:
        mine, theirs = aliased(Receipt, name="mine"), aliased(Receipt, name="theirs")
        same_receipt = (
            select(_Other.id)
            .select_from(mine)
            .join(theirs, and_(theirs.sha256 == mine.sha256, theirs.ticket_id != mine.ticket_id))
            .join(_Other, _Other.id == theirs.ticket_id)
            .where(
                mine.ticket_id == ticket_id,
                _Other.owner_id == owner_id,
                _Other.status != TicketStatus.DENIED,
            )
            .correlate(Ticket)
        )
        matches = union(same_purchase.where(_Other.id != ticket_id), same_receipt)
    found = matches.subquery("matches")
    oldest = select(found.c.id).order_by(found.c.id).limit(MAX_DUPLICATES_SHOWN)
    return func.array(oldest.scalar_subquery(), type_=ARRAY(BigInteger))


def policy_flags(
    amount: Any,
    max_amount: Any,
    receipt_required_above: Any,
    has_receipt: Any,
    duplicate_of: Any,
) -> ColumnElement[list[str]]:
    """The flags of a ticket of `amount` (in the company's currency, as the limits
    are) in a category with these limits (NULL: none)."""
    # A comparison with NULL is NULL, so a missing limit never flags.
    flags = array[Any](
        [
            case((amount > max_amount, _flag(TicketFlag.OVER_LIMIT))),
            case(
                (
                    and_(amount > receipt_required_above, ~has_receipt),
                    _flag(TicketFlag.RECEIPT_MISSING),
                )
            ),
            case((func.cardinality(duplicate_of) > 0, _flag(TicketFlag.POSSIBLE_DUPLICATE))),
        ],
        type_=Text,
    )
    return func.array_remove(flags, null(), type_=ARRAY(Text))


def _flag(flag: TicketFlag) -> ColumnElement[str]:
    # Written into the SQL as text: a bound string is sent as VARCHAR, and
    # PostgreSQL has no `text[] = varchar[]`.
    return literal_column(f"'{flag.value}'::text", Text)


def _refresh(which: ColumnElement[bool]) -> Update:
    """UPDATE the flags of the tickets `which` selects, writing only those that change;
    RETURNING each changed ticket's id and its new `duplicate_of`."""
    has_receipt = exists().where(Receipt.ticket_id == Ticket.id)
    current = (
        select(
            Ticket.id,
            Ticket.company_amount,
            Category.max_amount,
            Category.receipt_required_above,
            has_receipt.label("has_receipt"),
            possible_duplicates(
                Ticket.owner_id, Ticket.spent_on, Ticket.amount, Ticket.currency, Ticket.id
            ).label("duplicate_of"),
        )
        .join(Category, Category.id == Ticket.category_id)
        .where(which)
        .subquery("current")
    )
    fresh = select(
        current.c.id,
        current.c.duplicate_of,
        policy_flags(
            current.c.company_amount,
            current.c.max_amount,
            current.c.receipt_required_above,
            current.c.has_receipt,
            current.c.duplicate_of,
        ).label("flags"),
    ).cte("fresh")
    return (
        update(Ticket)
        .where(
            Ticket.id == fresh.c.id,
            tuple_(Ticket.flags, Ticket.duplicate_of).is_distinct_from(
                tuple_(fresh.c.flags, fresh.c.duplicate_of)
            ),
        )
        # Not an edit of the ticket: `updated_at` stays.
        .values(
            flags=fresh.c.flags, duplicate_of=fresh.c.duplicate_of, updated_at=Ticket.updated_at
        )
        .returning(Ticket.id, Ticket.duplicate_of)
    )


async def hold_owners(session: AsyncSession, owners: Select[Any], *, shared: bool = False) -> None:
    """Hold the rows of the users `owners` selects, in id order, until the transaction
    ends: FOR NO KEY UPDATE before any change that refreshes flags (the owner's changes
    then take turns); FOR SHARE, with `shared`, when only their suspension must wait."""
    held = select(User.id).where(User.id.in_(owners)).order_by(User.id)
    await session.execute(
        held.with_for_update(read=True) if shared else held.with_for_update(key_share=True)
    )


# Built once: a receipt's upload refreshes, and compiling this costs more than running it.
_REFRESH = _refresh(Ticket.id == any_(bindparam("refreshed", type_=ARRAY(BigInteger))))


async def refresh(session: AsyncSession, ticket_ids: Sequence[int]) -> None:
    """Recompute the flags of these tickets, and of every ticket whose duplicates they
    were or have become (a duplicate is flagged on both sides). Their owners must be
    held (`hold_owners`)."""
    pending, done = set(ticket_ids), set[int]()
    previous = select(func.unnest(Ticket.duplicate_of)).where(any_of(Ticket.id, list(pending)))
    pending |= set((await session.scalars(previous)).all())
    # Two rounds reach everything: the tickets, then what they now match.
    for _ in range(2):
        wanted = sorted(pending - done)
        if not wanted:
            return
        done |= set(wanted)
        changed = (await session.execute(_REFRESH, {"refreshed": wanted})).all()
        pending |= {other for _, duplicates in changed for other in duplicates}


async def refresh_policy(session: AsyncSession, category_id: int) -> None:
    """Recompute `over_limit` and `receipt_missing` of the category's undecided tickets,
    after its limits changed (a decided ticket keeps the flags it was decided with).

    Call it after the category's UPDATE. Every other ticket write stops until the commit
    (`SHARE ROW EXCLUSIVE`; a rare change of policy, a statement long): the refresh then
    sees every ticket filed under the old limits, and a filing that comes after it
    reads the new ones. The owners are held first, in the order every writer takes."""
    in_category = and_(Ticket.category_id == category_id, Ticket.status.in_(EDITABLE))
    await hold_owners(session, select(Ticket.owner_id).where(in_category))
    await session.execute(text("LOCK TABLE tickets IN SHARE ROW EXCLUSIVE MODE"))
    await session.execute(_refresh(in_category))
