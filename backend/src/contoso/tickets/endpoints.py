from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status

from contoso.auth.dependencies import BearerClaims, CurrentUser, employers_only
from contoso.database import SessionDep
from contoso.errors import error_responses
from contoso.models import TicketFlag, TicketStatus
from contoso.tickets import service
from contoso.tickets.dependencies import TicketId, VisibleTicket
from contoso.tickets.queries import TicketFilters
from contoso.tickets.schemas import (
    BulkDecision,
    ChangesRequest,
    Decision,
    DecisionReport,
    EventRead,
    Skipped,
    TicketCreate,
    TicketPage,
    TicketRead,
    TicketSkip,
    TicketUpdate,
)
from contoso.tickets.workflow import TRANSITIONS, Actor, Transition
from contoso.validation import MAX_RECORD_ID

router = APIRouter(prefix="/tickets", tags=["tickets"], responses=error_responses(401, 403))

NOT_FOUND = error_responses(404)
DECIDED = error_responses(409)


REPLAYED: dict[int | str, dict[str, Any]] = {
    200: {"description": "Filed before with this Idempotency-Key", "model": TicketRead}
}
# Printable ASCII, as the IETF draft's examples and every client's UUIDs are.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern="^[!-~]+$",
        description="Any unique string (a UUID): the same key and body within 24 hours "
        "return the ticket filed the first time (200) instead of filing another.",
    ),
]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409) | REPLAYED,
)
async def create_ticket(
    body: TicketCreate,
    session: SessionDep,
    owner: CurrentUser,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> TicketRead:
    """File an expense ticket of your own (employers too: another employer decides
    it), under `category_id` or the default category. It may come back flagged (over
    the category's limit, missing a required receipt, a possible duplicate): filing is
    allowed, approval looks at the flags."""
    if idempotency_key is None:
        return await service.file_ticket(session, owner, body)
    filing = await service.file_ticket_once(session, owner, body, idempotency_key)
    if filing.replayed:
        response.status_code = status.HTTP_200_OK
    return filing.ticket


@router.get("", response_model=TicketPage)
async def list_tickets(
    request: Request,
    claims: BearerClaims,
    status: TicketStatus | None = None,
    category_id: Annotated[int | None, Query(ge=1, le=MAX_RECORD_ID)] = None,
    flag: TicketFlag | None = None,
    flagged: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    mine: bool = False,
) -> Response:
    """Your tickets (employees) or every visible ticket (employers; `mine=true`: the
    ones you filed yourself), newest first; narrowed by status, category, one flag, or
    flagged (true) / unflagged (false).

    `total` is exact for your own tickets; for employers it is exact up to 50,000
    and the database's estimate above (then `total_is_estimate` is true).
    """
    filters = TicketFilters(
        status=status,
        category_id=category_id,
        flag=flag,
        flagged=flagged,
        # An employee's own list is theirs already.
        owner_id=claims.user_id if mine else None,
    )
    page = await service.ticket_page_json(
        request.app.state.database, claims, filters=filters, limit=limit, offset=offset
    )
    # Written already (by PostgreSQL for an employee's own list): sent as it is.
    return Response(page, media_type="application/json")


@router.post("/decisions", dependencies=[employers_only("decide tickets")])
async def decide_tickets(
    body: BulkDecision, session: SessionDep, user: CurrentUser
) -> DecisionReport:
    """Approve, deny or send back for changes many tickets at once; reports which were
    acted on (`decided`) and which skipped. Approving skips flagged tickets (reason
    `flagged`) unless `include_flagged` is true; requesting changes needs a note."""
    outcome = await service.act_on_tickets(
        session,
        user,
        TRANSITIONS[body.decision],
        body.ticket_ids,
        body.note,
        include_flagged=body.include_flagged,
    )
    return DecisionReport(
        decided=outcome.done,
        skipped=[Skipped(id=i, reason=TicketSkip(reason)) for i, reason in outcome.skipped.items()],
    )


@router.get("/{ticket_id}", responses=NOT_FOUND)
async def get_ticket(ticket: VisibleTicket) -> TicketRead:
    return ticket


@router.get("/{ticket_id}/history", responses=NOT_FOUND)
async def ticket_history(
    ticket: VisibleTicket, session: SessionDep, user: CurrentUser
) -> list[EventRead]:
    """What happened to the ticket, oldest first: filed, edited, approved or denied."""
    events = await service.ticket_history(session, user, ticket.id)
    return [EventRead.model_validate(event) for event in events]


@router.patch("/{ticket_id}", responses=NOT_FOUND | DECIDED)
async def update_ticket(
    ticket_id: TicketId, body: TicketUpdate, session: SessionDep, user: CurrentUser
) -> TicketRead:
    """Edit your own ticket while it is pending or sent back for changes."""
    return await service.update_ticket(session, user, ticket_id, body)


def _on_one(transition: Transition) -> Callable[..., Awaitable[TicketRead]]:
    """The endpoint that makes `transition` on one ticket: with an optional note
    (employers), a required one (`asks`), or none (owners)."""

    async def by_owner(ticket_id: TicketId, session: SessionDep, user: CurrentUser) -> TicketRead:
        return await service.act_on_ticket(session, user, transition, ticket_id)

    async def noting(
        ticket_id: TicketId,
        session: SessionDep,
        user: CurrentUser,
        body: Decision | None = None,
    ) -> TicketRead:
        note = body.note if body else None
        return await service.act_on_ticket(session, user, transition, ticket_id, note)

    async def asking(
        ticket_id: TicketId, body: ChangesRequest, session: SessionDep, user: CurrentUser
    ) -> TicketRead:
        return await service.act_on_ticket(session, user, transition, ticket_id, body.note)

    if not transition.takes_note:
        return by_owner
    return noting if transition.asks is None else asking


# POST /tickets/{id}/<transition>, for every transition the generic doors run (paying
# has its own, under /payments). Employers are told apart before the body is read.
for _transition in TRANSITIONS.values():
    if _transition.own_door:
        continue
    router.post(
        f"/{{ticket_id}}/{_transition.slug}",
        responses=NOT_FOUND | DECIDED,
        dependencies=(
            [employers_only(_transition.doing)] if _transition.by is Actor.EMPLOYER else None
        ),
        name=f"{_transition.name}_ticket",
        summary=_transition.summary or None,
        description=_transition.described,
    )(_on_one(_transition))
