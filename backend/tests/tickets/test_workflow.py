"""Every declared transition of the ticket workflow (`tickets.workflow`), walked from every
status and by every role, through the public service functions the doors call: who may
make it, what it writes on the ticket, its history entry, the running totals (against a
recount written independently) and its email. A new transition is walked here as soon
as it is declared."""

from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select

from contoso.database import Database
from contoso.errors import Conflict, Forbidden
from contoso.models import Event, OutboxEmail, Ticket, TicketStatus, User
from contoso.payments import service as payments
from contoso.tickets import service as tickets
from contoso.tickets.executor import Outcome, run
from contoso.tickets.workflow import (
    APPROVE,
    DENY,
    PAY,
    TRANSITIONS,
    Actor,
    Skip,
    Stamp,
    Transition,
)
from tests.support.databases import plain_url
from tests.support.factories import Account
from tests.support.totals import stored_and_recounted

NOTE = "Checked against the card statement"


@dataclass
class People:
    owner: Account
    other: Account  # another employee
    employer: Account


async def _act(session: Any, transition: Transition, actor: User, ticket_id: int) -> Outcome:
    """`transition` on one ticket, in bulk, through the service the doors call."""
    if transition.own_door:  # paying, which has a door of its own
        assert transition is PAY
        try:
            report = await payments.pay_tickets(session, actor, [ticket_id])
        except Conflict:  # a payment that would pay nothing records nothing
            preview = await payments.preview_payment(session, actor, [ticket_id])
            return Outcome(skipped={s.id: Skip(s.reason) for s in preview.skipped})
        return Outcome(done=report.paid)
    note = NOTE if transition.takes_note else None
    return await tickets.act_on_tickets(session, actor, transition, [ticket_id], note)


def _paths() -> dict[TicketStatus, list[Transition]]:
    """How a ticket reaches each status from pending, by the fewest declared transitions."""
    paths: dict[TicketStatus, list[Transition]] = {TicketStatus.PENDING: []}
    reached = [TicketStatus.PENDING]
    for status in reached:  # breadth first: `reached` grows as it is walked
        for transition in TRANSITIONS.values():
            if status in transition.sources and transition.target not in paths:
                paths[transition.target] = [*paths[status], transition]
                reached.append(transition.target)
    return paths


_PATHS = _paths()


def test_every_status_is_reached_and_every_transition_refuses_every_other_status():
    assert set(_PATHS) == set(TicketStatus)
    for transition in TRANSITIONS.values():
        assert set(transition.refusals) | transition.sources == set(TicketStatus), transition
        assert transition.target not in transition.sources
        assert set(transition.stamps) <= set(Ticket.__table__.c.keys())


async def _in_status(database: Database, factory: Any, people: People, status: TicketStatus) -> int:
    ticket: dict[str, Any] = await factory.ticket(people.owner)
    for step in _PATHS[status]:
        async with database.sessionmaker.begin() as session:
            actor = people.owner if step.by is Actor.OWNER else people.employer
            done = await _act(session, step, await session.get_one(User, actor.id), ticket["id"])
            assert done.done == [ticket["id"]]
    return int(ticket["id"])


async def _totals_match_a_recount(database_url: str) -> None:
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        stored, recounted = await stored_and_recounted(connection)
    finally:
        await connection.close()
    assert stored == recounted


async def _trail(database: Database, ticket_id: int) -> tuple[Ticket, list[Event], int]:
    """The ticket, its history, and how many emails the outbox holds."""
    async with database.sessionmaker() as session:
        ticket = await session.get_one(Ticket, ticket_id)
        events = (
            await session.scalars(
                select(Event).where(Event.ticket_id == ticket_id).order_by(Event.id)
            )
        ).all()
        emails = await session.scalar(select(func.count()).select_from(OutboxEmail))
    return ticket, list(events), emails or 0


def _ids(events: list[Event]) -> list[int]:
    return [event.id for event in events]


_WALKS = [(name, status) for name, transition in TRANSITIONS.items() for status in TicketStatus]


@pytest.mark.parametrize(("name", "status"), _WALKS)
async def test_a_transition_from_each_status_by_whoever_may_make_it(
    name, status, factory, app, database_url
):
    transition = TRANSITIONS[name]
    database: Database = app.state.database
    people = People(await factory.employee(), await factory.employee(), await factory.employer())
    ticket_id = await _in_status(database, factory, people, status)
    actor = people.owner if transition.by is Actor.OWNER else people.employer
    _, history_before, emails_before = await _trail(database, ticket_id)

    async with database.sessionmaker.begin() as session:
        outcome = await _act(session, transition, await session.get_one(User, actor.id), ticket_id)

    ticket, history, emails = await _trail(database, ticket_id)
    await _totals_match_a_recount(database_url)
    if status not in transition.sources:
        assert outcome.done == []
        assert outcome.skipped == {ticket_id: transition.refusals[status].skip}
        assert ticket.status is status
        assert _ids(history) == _ids(history_before) and emails == emails_before
        return
    assert outcome.done == [ticket_id]
    assert ticket.status is transition.target
    for column, stamp in transition.stamps.items():
        value = getattr(ticket, column)
        match stamp:
            case Stamp.ACTOR:
                assert value == actor.id
            case Stamp.NOTE:
                assert value == NOTE
            case Stamp.NOW | Stamp.GIVEN:
                assert value is not None
    latest = history[-1]
    assert len(history) == len(history_before) + 1
    assert (latest.kind, latest.actor_id) == (transition.event, actor.id)
    assert emails == emails_before + (transition.mail is not None)


@pytest.mark.parametrize("name", list(TRANSITIONS))
async def test_no_one_else_makes_a_transition(name, factory, app, database_url):
    transition = TRANSITIONS[name]
    database: Database = app.state.database
    people = People(await factory.employee(), await factory.employee(), await factory.employer())
    ticket_id = await _in_status(database, factory, people, min(transition.sources))
    _, history_before, emails_before = await _trail(database, ticket_id)
    outsiders = [people.owner, people.other] if transition.by is Actor.EMPLOYER else []
    for outsider in outsiders:
        async with database.sessionmaker.begin() as session:
            with pytest.raises(Forbidden):
                await _act(session, transition, await session.get_one(User, outsider.id), ticket_id)
    if transition.by is Actor.OWNER:
        # Someone else's ticket is not found, as if absent: an employer's too, who acts
        # as an owner on their own tickets only.
        for outsider in (people.other, people.employer):
            async with database.sessionmaker.begin() as session:
                user = await session.get_one(User, outsider.id)
                outcome = await run(session, transition, user, [ticket_id])
            assert outcome.skipped == {ticket_id: Skip.NOT_FOUND}
    ticket, history, emails = await _trail(database, ticket_id)
    assert ticket.status in transition.sources
    assert _ids(history) == _ids(history_before) and emails == emails_before
    await _totals_match_a_recount(database_url)


def test_deny_is_declared_to_refresh_duplicates_and_approve_is_not():
    # Derived from the statuses, not declared: a denied ticket duplicates nothing.
    assert DENY.refreshes_duplicates and not APPROVE.refreshes_duplicates
