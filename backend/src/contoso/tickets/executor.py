"""The one executor of the ticket workflow (`tickets.workflow`): a declared transition
and a set of ids become one locked, ordered, conditional UPDATE with its history,
running totals, emails and flags, for one ticket or ten thousand.

The order is the same for every transition, and it is what keeps racing actions apart:
1. the owners' rows are held, in id order (FOR SHARE when only employers act, so their
   decisions on the same owners go on side by side; FOR NO KEY UPDATE when the owner
   acts or flags change, as every change of flags does): a suspension waits for the
   change, and the change's fresh snapshot sees who is suspended, so the totals never
   count a hidden ticket;
2. the tickets in a source status are locked in id order: the UPDATE's own locking
   order follows its plan, which differs between connections, and overlapping bulk
   actions that lock in different orders deadlock;
3. one UPDATE … WHERE status IN (sources) changes them, and in the same statement
   writes their history and moves them between the running totals: racing actions act
   on each ticket once, and no change lands without its history or totals;
4. then each owner's email goes to the outbox, emptied pending totals are swept, and
   duplicate flags are refreshed where the transition changes what duplicates what.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import CTE, ColumnElement, func, literal_column, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from contoso import flags
from contoso.auth.service import ensure_employer
from contoso.dashboard import totals
from contoso.database import any_of
from contoso.errors import Conflict, Forbidden, NotFound
from contoso.history import record_for_each
from contoso.mail import outbox
from contoso.models import Ticket, TicketStatus, User
from contoso.tickets.display import status_words
from contoso.tickets.queries import visible_ticket_ids
from contoso.tickets.workflow import Actor, Skip, Stamp, Transition


@dataclass
class Outcome:
    """What an action on several tickets did: the ids it changed, in the order asked,
    and why it left each of the others alone."""

    done: list[int] = field(default_factory=list)
    skipped: dict[int, Skip] = field(default_factory=dict)


def not_found(ticket_id: int) -> NotFound:
    # The same answer for "absent", "someone else's" and "hidden": ids confirm nothing.
    return NotFound(f"Ticket {ticket_id} not found.")


def authorise(transition: Transition, actor: User) -> None:
    """Forbidden unless `actor` may make `transition` at all (an owner's, anyone on
    their own tickets)."""
    if transition.by is Actor.EMPLOYER:
        ensure_employer(actor, transition.doing)


def whose(transition: Transition, actor: User) -> ColumnElement[bool]:
    """The tickets `actor` may make `transition` on, by owner: their own for an owner's;
    anyone's but their own for an employer's (nobody decides or pays their own)."""
    if transition.owners_only:
        return Ticket.owner_id == actor.id
    return Ticket.owner_id != actor.id


OWN_TICKET = "Ticket {id} is your own: nobody acts on their own ticket; another employer has to."


async def _hold_owners(
    session: AsyncSession, transition: Transition, actor: User, wanted: Sequence[int]
) -> None:
    owners = select(Ticket.owner_id).where(any_of(Ticket.id, wanted, "wanted"))
    if transition.owners_only:
        owners = owners.where(Ticket.owner_id == actor.id)
    exclusive = transition.owners_only or transition.refreshes_duplicates
    await flags.hold_owners(session, owners, shared=not exclusive)


def _stamped(
    transition: Transition, actor: User, note: str | None, given: Mapping[str, Any]
) -> dict[str, Any]:
    wanted = {column for column, stamp in transition.stamps.items() if stamp is Stamp.GIVEN}
    if set(given) != wanted:
        raise ValueError(f"{transition.name} needs {sorted(wanted)}, was given {sorted(given)}")
    values: dict[str, Any] = {"status": transition.target, "updated_at": func.now()}
    for column, stamp in transition.stamps.items():
        match stamp:
            case Stamp.ACTOR:
                values[column] = actor.id
            case Stamp.NOW:
                values[column] = func.now()
            case Stamp.NOTE:
                values[column] = note
            case Stamp.GIVEN:
                values[column] = given[column]
    return values


def _changing(
    transition: Transition,
    actor: User,
    locked: Sequence[int],
    guard: ColumnElement[bool],
    values: dict[str, Any],
) -> CTE:
    """The UPDATE of the locked tickets still in a source status, RETURNING each one's
    totalled columns as they are and, read in the same statement, as they were."""
    was = aliased(Ticket, name="was")
    before = (
        select(was.id, *(getattr(was, name).label(f"was_{name}") for name in totals.TALLIED))
        .where(any_of(was.id, locked, "locked"))
        .subquery("before")
    )
    columns = Ticket.__table__.c
    return (
        update(Ticket)
        .where(
            Ticket.id == before.c.id,
            Ticket.status.in_(transition.sources),
            Ticket.id.in_(visible_ticket_ids(actor)),
            guard,
        )
        .values(values)
        .returning(
            Ticket.id,
            *(columns[name] for name in totals.TALLIED),
            *(before.c[f"was_{name}"] for name in totals.TALLIED),
        )
        .cte("changed")
    )


async def run(
    session: AsyncSession,
    transition: Transition,
    actor: User,
    ticket_ids: Sequence[int],
    *,
    note: str | None = None,
    include_flagged: bool = False,
    given: Mapping[str, Any] | None = None,
    facts: Mapping[str, str | int | None] | None = None,
    also: Callable[[CTE], Sequence[CTE]] = lambda changed: (),
) -> Outcome:
    """Make `transition` on the tickets among `ticket_ids` that `actor` may act on and
    that are in one of its source statuses, atomically, and say why it left the others.

    `note` is stamped where the transition stamps one and goes on the history; `given`
    holds the values of the columns it stamps as GIVEN; `facts` are what its email says
    (by default who acted and the note); `also` adds statements that read the changed
    rows (the payment's own row) to the same statement.
    """
    authorise(transition, actor)
    wanted = list(dict.fromkeys(ticket_ids))
    owners = whose(transition, actor)
    guard = (
        Ticket.flags == literal_column("'{}'")
        if transition.spares_flagged and not include_flagged
        else true()
    )
    await _hold_owners(session, transition, actor, wanted)
    locked = (
        await session.scalars(
            select(Ticket.id)
            .where(any_of(Ticket.id, wanted), Ticket.status.in_(transition.sources), owners, guard)
            .order_by(Ticket.id)
            .with_for_update(key_share=True)
        )
    ).all()
    changed = _changing(
        transition, actor, locked, guard, _stamped(transition, actor, note, given or {})
    )
    moved = totals.count_moved(changed, *transition.counted())
    statement = select(changed.c.id).add_cte(
        record_for_each(changed, transition.event, actor.id, note=note).cte("history"),
        *(change.cte(f"moved_{i}") for i, change in enumerate(moved)),
        *also(changed),
    )
    done = set((await session.scalars(statement)).all())
    outcome = Outcome(done=[i for i in wanted if i in done])
    outcome.skipped = await skip_reasons(
        session, transition, actor, [i for i in wanted if i not in done]
    )
    if outcome.done:
        await _afterwards(session, transition, actor, outcome.done, note, facts)
    return outcome


async def _afterwards(
    session: AsyncSession,
    transition: Transition,
    actor: User,
    done: list[int],
    note: str | None,
    facts: Mapping[str, str | int | None] | None,
) -> None:
    if transition.mail is not None:
        said = facts if facts is not None else {"by": actor.username, "note": note}
        await session.execute(outbox.tell_owners(transition.mail, done, said))
    left, entered = transition.counted()
    if any(totals.Tally.PENDING in tallies for tallies in left.values()) and (
        totals.Tally.PENDING not in entered
    ):
        owners = select(Ticket.owner_id).distinct().where(any_of(Ticket.id, done, "done"))
        await session.execute(totals.sweep_pending((await session.scalars(owners)).all()))
    if transition.refreshes_duplicates:
        # A denied ticket keeps its `duplicate_of` (what it duplicated when filed): those
        # tickets, and the ones a ticket back from `denied` matches, are re-flagged.
        reaching = select(Ticket.id).where(any_of(Ticket.id, done, "done"))
        if transition.target is TicketStatus.DENIED:
            reaching = reaching.where(Ticket.duplicate_of != literal_column("'{}'"))
        await flags.refresh(session, (await session.scalars(reaching)).all())


async def skip_reasons(
    session: AsyncSession, transition: Transition, actor: User, ticket_ids: Sequence[int]
) -> dict[int, Skip]:
    """Why `transition` leaves each of `ticket_ids` alone: NOT_FOUND when `actor`
    cannot see it (or it is not theirs, for an owner's transition), OWN_TICKET when an
    employer's transition meets their own, else by the status it is in now (its
    declared refusals)."""
    if not ticket_ids:
        return {}
    found = select(Ticket.id, Ticket.status, Ticket.owner_id).where(
        any_of(Ticket.id, ticket_ids, "undone"), Ticket.id.in_(visible_ticket_ids(actor))
    )
    if transition.owners_only:
        found = found.where(Ticket.owner_id == actor.id)
    seen = {row.id: row for row in await session.execute(found)}

    def reason(ticket_id: int) -> Skip:
        if ticket_id not in seen:
            return Skip.NOT_FOUND
        if not transition.owners_only and seen[ticket_id].owner_id == actor.id:
            return Skip.OWN_TICKET
        return transition.refusals[seen[ticket_id].status].skip

    return {i: reason(i) for i in ticket_ids}


async def run_on_one(
    session: AsyncSession,
    transition: Transition,
    actor: User,
    ticket_id: int,
    *,
    note: str | None = None,
) -> None:
    """`run` on one ticket, opened and looked at (so flagged or not): NotFound when the
    actor cannot see it, Forbidden when they may not act, Conflict with the transition's
    refusal when its status does not allow it; Forbidden too on an employer's own
    ticket."""
    # Look first, as the caller: probing other people's ticket ids gets the same 404
    # as a missing one, before being said who may act.
    seen = visible_ticket_ids(actor).where(Ticket.id == ticket_id)
    if transition.owners_only:
        seen = seen.where(Ticket.owner_id == actor.id)
    if await session.scalar(seen) is None:
        raise not_found(ticket_id)
    outcome = await run(session, transition, actor, [ticket_id], note=note, include_flagged=True)
    skipped = outcome.skipped.get(ticket_id)
    if skipped is Skip.NOT_FOUND:
        raise not_found(ticket_id)
    if skipped is Skip.OWN_TICKET:
        raise Forbidden(OWN_TICKET.format(id=ticket_id))
    if skipped is not None:
        status = await session.scalar(select(Ticket.status).where(Ticket.id == ticket_id))
        assert status is not None  # it was seen above
        refusal = transition.refusals[status]
        raise Conflict(refusal.message.format(id=ticket_id, status=status_words(status)))
