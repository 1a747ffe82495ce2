"""The ticket rules, shared by the JSON API, the console, the pages and the CLI.

Every call that returns tickets returns them as `TicketRead`, the one shape every door
shows, read with `queries.ticket_columns`.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import timedelta
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    bindparam,
    delete,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, joinedload

from contoso import flags
from contoso.auth.service import user_for_token
from contoso.auth.tokens import TokenClaims
from contoso.categories.service import not_usable, usable_category_ids
from contoso.currencies.service import COMPANY_CURRENCY, Conversion, company_currency, convert
from contoso.dashboard import totals
from contoso.database import (
    Database,
    Driver,
    DriverStatement,
    any_of,
    column_rows,
    estimated_count,
)
from contoso.errors import Conflict, Unauthorized
from contoso.history import record_for_each
from contoso.models import (
    EDITABLE,
    Category,
    Event,
    EventKind,
    IdempotencyKey,
    Ticket,
    TicketStatus,
    User,
)
from contoso.tickets import executor, workflow
from contoso.tickets.executor import Outcome, not_found
from contoso.tickets.queries import (
    NO_FILTERS,
    TicketFilters,
    all_visible_ticket_ids,
    all_visible_tickets,
    count_visible_tickets,
    filed_ticket,
    newest_first,
    own_page_json,
    own_tickets,
    visible_ticket_ids,
    visible_tickets,
)
from contoso.tickets.schemas import TicketCreate, TicketPage, TicketRead, TicketUpdate

# Above this many rows an employer's list total is the planner's estimate: an exact
# count over a million tickets costs more than the page itself.
EXACT_COUNT_LIMIT = 50_000


async def _tickets(
    session: AsyncSession, statement: Select[Any], parameters: dict[str, Any] | None = None
) -> list[TicketRead]:
    return [TicketRead.from_row(row) for row in await column_rows(session, statement, parameters)]


# The filing statement's parameters, derived from what an employee files
# (`TicketCreate`), besides who files and the category (resolved to the default when
# omitted): what is stored as written, and the amount converted.
_CONVERTED = [f.name for f in fields(Conversion)]
_AS_WRITTEN = [
    name for name in TicketCreate.model_fields if name not in {"category_id", *_CONVERTED}
]
FILED_FIELDS = (*_AS_WRITTEN, *_CONVERTED)
# An edit of any of these converts the amount again.
CONVERTED_FROM = {"amount", "currency", "spent_on"}
# How long an Idempotency-Key holds a filing.
IDEMPOTENCY_WINDOW = timedelta(hours=24)


def _filing() -> Select[Any]:
    """The filing statement, built once: insert the ticket under its category (the
    default when `category_id` is null; nothing when that category is not active) with
    its flags, record and count it, and read it back. The owner's row is held first
    (`_HELD_OWNER`)."""
    columns = Ticket.__table__.c
    filed = {name: bindparam(name, type_=columns[name].type) for name in FILED_FIELDS}
    owner_id = bindparam("owner_id", type_=BigInteger)
    default = select(Category.id).where(Category.is_default).scalar_subquery()
    wanted = func.coalesce(bindparam("category_id", type_=BigInteger), default)
    policy = (
        select(
            Category.id.label("category_id"),
            Category.max_amount,
            Category.receipt_required_above,
            flags.possible_duplicates(
                owner_id, filed["spent_on"], filed["amount"], filed["currency"]
            ).label("duplicate_of"),
        )
        .where(Category.id == wanted, Category.active)
        .cte("policy")
    )
    ticket_flags = flags.policy_flags(
        filed["company_amount"],
        policy.c.max_amount,
        policy.c.receipt_required_above,
        literal(False),
        policy.c.duplicate_of,
    )
    inserted = (
        insert(Ticket)
        .from_select(
            ["owner_id", *FILED_FIELDS, "category_id", "duplicate_of", "flags"],
            select(
                owner_id,
                *filed.values(),
                policy.c.category_id,
                policy.c.duplicate_of,
                ticket_flags,
            ),
            # The server's defaults (status 'pending'): SQLAlchemy fills Python-side
            # defaults for only one of a statement's several INSERTs (history, totals).
            include_defaults=False,
        )
        .returning(*columns)
        .cte("inserted")
    )
    history = record_for_each(inserted, EventKind.TICKET_CREATED, inserted.c.owner_id).cte(
        "history"
    )
    counted = totals.count_pending((inserted, 1)).cte("counted")
    return filed_ticket(aliased(Ticket, inserted)).add_cte(history, counted)


# Run by asyncpg (`Driver`), in the transaction the owner's hold began.
_FILING = DriverStatement.of(_filing())


# The active user filing, their row held (FOR NO KEY UPDATE) until the filing commits:
# a suspension waits for it, and the owner's own changes wait their turn, so a filing's
# duplicate check sees every ticket filed before it. With the company's currency, which
# the filing converts to.
_HELD_OWNER = (
    select(User.id, COMPANY_CURRENCY.label("company_currency"))
    .where(
        User.id == bindparam("owner_id", type_=BigInteger),
        User.suspended.is_(False),
    )
    .with_for_update(key_share=True)
)


async def file_ticket(session: AsyncSession, owner: User, data: TicketCreate) -> TicketRead:
    """File a ticket for `owner` (anyone files, employers too), flagged by its
    category's policy and its likely duplicates, with its `ticket_created` history
    entry. A suspension that commits first wins: the filing is then refused, so no
    accepted ticket is ever lost or half-written. An inactive or unknown category is
    refused (InvalidField)."""
    held = (await session.execute(_HELD_OWNER, {"owner_id": owner.id})).first()
    if held is None:
        raise Unauthorized("Your account is suspended; you can no longer file tickets.")
    company = held.company_currency
    conversion = await convert(
        session, company, data.amount, data.currency or company, data.spent_on
    )
    parameters = (
        data.model_dump(include={*_AS_WRITTEN, "category_id"})
        | asdict(conversion)
        | {"owner_id": owner.id}
    )
    filed = await (await Driver.of(session)).fetchrow(_FILING, **parameters)
    if filed is None:
        raise not_usable(data.category_id or 0)
    ticket = TicketRead.from_row(filed)
    if ticket.duplicate_of:  # flagged on both sides
        await flags.refresh(session, [ticket.id])
    return ticket


@dataclass
class Filing:
    ticket: TicketRead
    # True when an earlier request with the same Idempotency-Key filed it.
    replayed: bool


async def file_ticket_once(
    session: AsyncSession, owner: User, data: TicketCreate, key: str
) -> Filing:
    """`file_ticket`, at most once per `key` and owner within IDEMPOTENCY_WINDOW: the
    same key and body again return the ticket filed the first time; the same key with
    another body is a Conflict. Concurrent requests with one key wait for the first
    (the key's primary key), so exactly one files."""
    # Not model_dump(mode="json"): pydantic warns on every call for the amount's
    # PlainValidator (pydantic#10402), though the output is right.
    # The company's currency named or left out is the same filing.
    filed = data.model_dump() | {"currency": data.currency or await company_currency(session)}
    body = json.dumps(to_jsonable_python(filed), sort_keys=True, separators=(",", ":"))
    request_hash = hashlib.sha256(body.encode()).hexdigest()
    new_key = insert(IdempotencyKey).values(user_id=owner.id, key=key, request_hash=request_hash)
    # An expired key is claimed afresh, as if it had never been used.
    claim = new_key.on_conflict_do_update(
        index_elements=[IdempotencyKey.user_id, IdempotencyKey.key],
        set_={
            "request_hash": new_key.excluded.request_hash,
            "ticket_id": None,
            "created_at": func.now(),
        },
        where=IdempotencyKey.created_at < func.now() - IDEMPOTENCY_WINDOW,
    ).returning(IdempotencyKey.user_id)
    if await session.scalar(claim) is not None:
        ticket = await file_ticket(session, owner, data)
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.user_id == owner.id, IdempotencyKey.key == key)
            .values(ticket_id=ticket.id)
        )
        return Filing(ticket, replayed=False)
    first = (
        await session.execute(
            select(IdempotencyKey.request_hash, IdempotencyKey.ticket_id).where(
                IdempotencyKey.user_id == owner.id, IdempotencyKey.key == key
            )
        )
    ).one()
    if first.request_hash != request_hash or first.ticket_id is None:
        raise Conflict(
            "This Idempotency-Key was already used for a different ticket in the last 24 "
            "hours; use a new key for a new ticket."
        )
    return Filing(await get_ticket(session, owner, first.ticket_id), replayed=True)


async def forget_expired_filing_keys(database: Database) -> int:
    """Delete the Idempotency-Keys older than IDEMPOTENCY_WINDOW (they no longer hold
    anything: `file_ticket_once` claims them afresh); how many went."""
    async with database.sessionmaker.begin() as session:
        expired = await session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.created_at < func.now() - IDEMPOTENCY_WINDOW
            )
        )
    return int(getattr(expired, "rowcount", 0))


async def get_ticket(session: AsyncSession, viewer: User, ticket_id: int) -> TicketRead:
    """The ticket if `viewer` may see it, else NotFound."""
    found = await _tickets(session, visible_tickets(viewer).where(Ticket.id == ticket_id))
    if not found:
        raise not_found(ticket_id)
    return found[0]


def _counted(statement: Select[Any]) -> Select[Any]:
    """A page of `statement`'s tickets, newest first, each row with the count of all
    of them; executed with `limit` and `offset`."""
    # An uncorrelated subquery, run once: unlike `count(*) OVER ()` it lets the page
    # itself stop after `limit` rows of the newest-first index instead of sorting all.
    total = select(func.count()).select_from(statement.subquery()).scalar_subquery()
    counted = newest_first(statement.add_columns(total.label("total")))
    return counted.limit(bindparam("limit", type_=Integer)).offset(
        bindparam("offset", type_=Integer)
    )


# An employee's own list by status alone (the busiest request): built once, not per call.
_OWN_PAGES = {
    status: _counted(own_tickets(TicketFilters(status=status))) for status in [None, *TicketStatus]
}


async def _counted_page(
    session: AsyncSession, page: Select[Any], parameters: dict[str, Any]
) -> tuple[list[TicketRead], int | None]:
    """The tickets of a `_counted` statement and their total; None when the page is empty."""
    rows = await column_rows(session, page, parameters)
    return [TicketRead.from_row(row) for row in rows], rows[0]["total"] if rows else None


async def list_tickets(
    session: AsyncSession,
    viewer: User,
    *,
    filters: TicketFilters = NO_FILTERS,
    limit: int = 50,
    offset: int = 0,
) -> TicketPage:
    """A page of the tickets `viewer` may see, newest first, with their total.

    An employee's own tickets are counted exactly. For employers the total is exact
    up to EXACT_COUNT_LIMIT and the planner's estimate above it.
    """
    if not viewer.is_employer:
        if filters.by_status_only:
            page, parameters = _OWN_PAGES[filters.status], {"owner_id": viewer.id}
        else:
            page, parameters = _counted(visible_tickets(viewer, filters)), {}
        items, total = await _counted_page(
            session, page, parameters | {"limit": limit, "offset": offset}
        )
        if total is None:  # a page past the end still reports the total
            total = await session.scalar(count_visible_tickets(viewer, filters)) or 0
        return TicketPage(items=items, total=total, limit=limit, offset=offset)
    # A deferred join: the page's ids come from a covering index alone (no table
    # reads for the rows skipped by OFFSET), then only those rows are read.
    page_ids = (
        newest_first(all_visible_ticket_ids(filters)).limit(limit).offset(offset).correlate(None)
    )
    items = await _tickets(
        session, newest_first(all_visible_tickets().where(Ticket.id.in_(page_ids)))
    )
    total, estimated = await estimated_count(
        session, all_visible_ticket_ids(filters), EXACT_COUNT_LIMIT
    )
    return TicketPage(
        items=items, total=total, total_is_estimate=estimated, limit=limit, offset=offset
    )


# The same, as the API's JSON built by PostgreSQL, run by asyncpg.
_OWN_JSON_PAGES = {
    status: DriverStatement.of(own_page_json(TicketFilters(status=status)))
    for status in [None, *TicketStatus]
}


async def ticket_page_json(
    database: Database,
    claims: TokenClaims,
    *,
    filters: TicketFilters = NO_FILTERS,
    limit: int = 50,
    offset: int = 0,
) -> str:
    """`list_tickets` for the bearer of `claims`, as the API writes a `TicketPage`.

    An employee's own list by status alone, nearly every request the API serves, is
    checked and built in two statements on asyncpg's connection, the JSON written by
    PostgreSQL (`queries.own_page_json`); every other list is `list_tickets`'s page.
    """

    async def own_page(driver: Driver) -> tuple[User, str | None]:
        viewer = await user_for_token(driver, claims)
        if viewer.is_employer or not filters.by_status_only:
            return viewer, None
        page = await driver.fetchval(
            _OWN_JSON_PAGES[filters.status], owner_id=viewer.id, limit=limit, offset=offset
        )
        return viewer, str(page)

    async with database.admitted():
        viewer, page = await database.read(own_page)
        if page is None:
            async with database.read_sessionmaker() as session:
                listed = await list_tickets(
                    session, viewer, filters=filters, limit=limit, offset=offset
                )
            page = listed.model_dump_json()
    return page


async def update_ticket(
    session: AsyncSession, editor: User, ticket_id: int, data: TicketUpdate
) -> TicketRead:
    """Edit the editor's own pending ticket (or one sent back for changes), re-flagging
    it (and the tickets it did or now may duplicate); a decided ticket is final
    (Conflict). A new category must be active (InvalidField)."""
    # The owner first, then the ticket (FOR UPDATE), then read: a decision racing with
    # the edit either waits and sees the edited row, or commits first and the edit
    # sees it decided.
    await flags.hold_owners(session, select(literal(editor.id, BigInteger)))
    locked = await session.scalar(
        visible_ticket_ids(editor)
        .where(Ticket.id == ticket_id, Ticket.owner_id == editor.id)
        .with_for_update(of=Ticket)
    )
    if locked is None:
        raise not_found(ticket_id)
    ticket = await get_ticket(session, editor, ticket_id)
    if ticket.status not in EDITABLE:
        raise Conflict(
            f"Ticket {ticket_id} was already {ticket.status}; it can no longer be edited."
        )
    wanted = data.model_dump(exclude_unset=True)
    current = ticket.model_dump(include=set(wanted)) | {"category_id": ticket.category.id}
    changed = {name: value for name, value in wanted.items() if current[name] != value}
    if not changed:
        return ticket
    if "category_id" in changed and not await usable_category_ids(
        session, [changed["category_id"]]
    ):
        raise not_usable(changed["category_id"])
    written = dict(changed)
    if changed.keys() & CONVERTED_FROM:
        # Converted afresh, at the rate valid on the (new) date.
        after = ticket.model_dump(include=CONVERTED_FROM) | changed
        company = await company_currency(session)
        conversion = await convert(
            session, company, after["amount"], after["currency"], after["spent_on"]
        )
        written |= asdict(conversion)
        if "amount" in changed:  # as stored: with its currency's decimals
            changed["amount"] = conversion.amount
        # The conversion is recorded too, unless ticket and company share a currency
        # (then it is the amount at rate 1 and says nothing new).
        if not ticket.currency == company == conversion.currency:
            for name in ("company_amount", "exchange_rate", "rate_date"):
                if getattr(conversion, name) != getattr(ticket, name):
                    current[name] = getattr(ticket, name)
                    changed[name] = getattr(conversion, name)
    # Recorded as the API writes them ("12.50", "2026-01-15"); the category by name.
    changes = {
        name: to_jsonable_python([current[name], changed[name]])
        for name in changed
        if name != "category_id"
    }
    # Read in the same statement as the UPDATE, so before it: the row is locked.
    before = select(Ticket.owner_id, Ticket.spent_on, Ticket.company_amount).where(
        Ticket.id == ticket_id
    )
    edited = (
        update(Ticket)
        .where(Ticket.id == ticket_id)
        .values(written | {"updated_at": func.now()})
        .returning(Ticket.id, Ticket.owner_id, Ticket.spent_on, Ticket.company_amount)
        .cte("edited")
    )
    if "category_id" in changed:
        new_name = select(Category.name).where(Category.id == changed["category_id"])
        changes["category"] = [ticket.category.name, await session.scalar(new_name)]
    recorded = record_for_each(edited, EventKind.TICKET_EDITED, editor.id, changes=changes)
    if ticket.status is TicketStatus.PENDING:  # a ticket sent back is not in the totals
        recorded = recorded.add_cte(
            totals.count_pending((before.cte("before"), -1), (edited, 1)).cte("moved")
        )
    await session.execute(recorded)
    if "spent_on" in changed and ticket.status is TicketStatus.PENDING:
        await session.execute(totals.sweep_pending([editor.id]))
    if changed.keys() & (CONVERTED_FROM | {"category_id"}):
        await flags.refresh(session, [ticket_id])
    return await get_ticket(session, editor, ticket_id)


async def act_on_tickets(
    session: AsyncSession,
    actor: User,
    transition: workflow.Transition,
    ticket_ids: Sequence[int],
    note: str | None = None,
    *,
    include_flagged: bool = False,
) -> Outcome:
    """Make `transition` on the tickets among `ticket_ids` that `actor` may act on and
    that are in one of its source statuses, atomically (`tickets.executor`); the doors
    generated from the workflow call this. A blank note is no note."""
    if transition.own_door:
        raise ValueError(f"{transition.name} is made through a door of its own")
    return await executor.run(
        session, transition, actor, ticket_ids, note=note or None, include_flagged=include_flagged
    )


async def act_on_ticket(
    session: AsyncSession,
    actor: User,
    transition: workflow.Transition,
    ticket_id: int,
    note: str | None = None,
) -> TicketRead:
    """`act_on_tickets` on one ticket, flagged or not: NotFound if hidden or absent (or
    someone else's, for an owner's transition), Conflict with the transition's refusal
    when its status does not allow it."""
    if transition.own_door:
        raise ValueError(f"{transition.name} is made through a door of its own")
    await executor.run_on_one(session, transition, actor, ticket_id, note=note or None)
    return await get_ticket(session, actor, ticket_id)


# The decisions an employer makes, by the status they give.
DECISIONS = {TicketStatus.APPROVED: workflow.APPROVE, TicketStatus.DENIED: workflow.DENY}


def _decision(decision: TicketStatus) -> workflow.Transition:
    if decision not in DECISIONS:
        raise ValueError(f"not a decision: {decision}")
    return DECISIONS[decision]


async def decide_tickets(
    session: AsyncSession,
    employer: User,
    ticket_ids: Sequence[int],
    decision: TicketStatus,
    note: str | None = None,
    *,
    include_flagged: bool = False,
) -> Outcome:
    """Approve or deny the pending visible tickets among `ticket_ids`, atomically, each
    exactly once however many employers race (`tickets.executor`). Approving leaves
    flagged tickets alone (skipped as `flagged`) unless `include_flagged`; denying
    re-flags the tickets that a denied one duplicated."""
    return await executor.run(
        session,
        _decision(decision),
        employer,
        ticket_ids,
        note=note or None,
        include_flagged=include_flagged,
    )


async def decide_ticket(
    session: AsyncSession,
    employer: User,
    ticket_id: int,
    decision: TicketStatus,
    note: str | None = None,
) -> TicketRead:
    """Decide one ticket, flagged or not: NotFound if hidden or absent, Conflict if
    already decided or sent back for changes."""
    await executor.run_on_one(session, _decision(decision), employer, ticket_id, note=note or None)
    return await get_ticket(session, employer, ticket_id)


async def request_changes(
    session: AsyncSession, employer: User, ticket_ids: Sequence[int], note: str
) -> Outcome:
    """Send the pending visible tickets among `ticket_ids` back to their owners with
    `note` (what to change), atomically: they are `changes_requested`, out of the
    pending totals, until the owner resubmits them; each owner is emailed once."""
    return await executor.run(session, workflow.REQUEST_CHANGES, employer, ticket_ids, note=note)


async def request_changes_on_ticket(
    session: AsyncSession, employer: User, ticket_id: int, note: str
) -> TicketRead:
    """`request_changes` on one ticket: NotFound if hidden or absent, Conflict unless
    it is pending."""
    await executor.run_on_one(session, workflow.REQUEST_CHANGES, employer, ticket_id, note=note)
    return await get_ticket(session, employer, ticket_id)


async def resubmit_ticket(session: AsyncSession, owner: User, ticket_id: int) -> TicketRead:
    """The owner sends a ticket that was sent back for changes in again: pending once
    more, for a decision. Conflict unless it is `changes_requested`."""
    await executor.run_on_one(session, workflow.RESUBMIT, owner, ticket_id)
    return await get_ticket(session, owner, ticket_id)


async def ticket_history(session: AsyncSession, viewer: User, ticket_id: int) -> Sequence[Event]:
    """What happened to a ticket `viewer` may see, oldest first."""
    await get_ticket(session, viewer, ticket_id)
    return (
        await session.scalars(
            select(Event)
            .where(Event.ticket_id == ticket_id)
            .options(joinedload(Event.actor))
            .order_by(Event.id)
        )
    ).all()


async def tickets_by_ids(
    session: AsyncSession, viewer: User, ticket_ids: Sequence[int]
) -> list[TicketRead]:
    """The tickets among `ticket_ids` that `viewer` may see, newest first (for confirmations)."""
    return await _tickets(
        session, newest_first(visible_tickets(viewer).where(any_of(Ticket.id, ticket_ids)))
    )
