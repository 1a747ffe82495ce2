"""Reviewing tickets in the console: every employer's transition of the workflow that the
generic doors run (approve, deny, request changes...) on a selection of the list, or on
the ticket whose page the employer came from, each after a confirmation, through the
ticket service. The actions, buttons and words come from the declarations
(`tickets.workflow`); `actions` gives TicketAdmin its action methods, as SQLAdmin
requires."""

from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal

from pydantic import ValidationError
from sqladmin.flash import Flash
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from contoso.admin.views import ConsoleView, outcome_message, refusal, selection
from contoso.errors import ContosoError
from contoso.models import TicketStatus
from contoso.tickets import service as tickets_service
from contoso.tickets.schemas import ChangesRequest, Decision, TicketRead
from contoso.tickets.workflow import STATUSES, TRANSITIONS, Actor, AskedNote, Transition

# Sent by a ticket's own page: act on that one ticket, flagged or not (its flags were
# seen), as `tickets_service.act_on_ticket` does.
OPENED_FIELD = "opened"
# The approval confirmation's checkbox: approve the flagged tickets of the selection too.
INCLUDE_FLAGGED_FIELD = "include_flagged"
# The review's note: optional, or required where the transition asks for one.
NOTE_FIELD = "note"

# The reviews an employer makes from the console, in the workflow's order.
REVIEWS = [t for t in TRANSITIONS.values() if t.by is Actor.EMPLOYER and not t.own_door]


def reviews_from(status: TicketStatus) -> list[Transition]:
    """The reviews a ticket in `status` offers on its page (ticket_details.html)."""
    return [t for t in REVIEWS if status in t.sources]


def waiting(status: TicketStatus) -> str:
    """What a ticket's page says while it can be reviewed."""
    return STATUSES[status].waiting


def actions() -> dict[str, tuple[str, Callable[[ConsoleView, Request], Awaitable[Response]]]]:
    """Each review's console action: its slug, its label, and what it does."""

    def acting(transition: Transition) -> Callable[[ConsoleView, Request], Awaitable[Response]]:
        async def act(view: ConsoleView, request: Request) -> Response:
            return await review(view, request, transition)

        return act

    return {t.slug: (t.label, acting(t)) for t in REVIEWS}


async def review(view: ConsoleView, request: Request, transition: Transition) -> Response:
    """`transition` on the tickets of the selection in one of its source statuses, with
    its note (optional, or required where it asks for one); a flagged ticket is approved
    only when the employer says so."""
    form, ids = await selection(request)
    if ids is None:
        # Said on the list itself, which is still as the employer left it.
        Flash.warning(request, f"Select at least one ticket to {_act(transition)} first.")
        return view.back_to_list(request, form)
    opened = len(ids) == 1 and (form or request.query_params).get(OPENED_FIELD) == "1"
    if form is None:
        return await _show_tickets(view, request, transition, ids, opened=opened)
    typed = str(form.get(NOTE_FIELD, ""))
    try:
        note = _note(typed, transition.asks)
    except ValueError as exc:
        return await _show_tickets(
            view,
            request,
            transition,
            ids,
            opened=opened,
            note=typed,
            note_error=str(exc),
            status=400,
        )
    if opened:
        return await _review_opened(view, request, form, ids[0], transition, note)
    include_flagged = form.get(INCLUDE_FLAGGED_FIELD) == "on"
    async with view.sessions.begin() as session:
        outcome = await tickets_service.act_on_tickets(
            session,
            request.state.employer,
            transition,
            ids,
            note,
            include_flagged=include_flagged,
        )
    message = outcome_message(
        transition.done,
        "ticket",
        len(outcome.done),
        outcome.skipped,
        transition.done_detail,
        transition.skip_words,
    )
    # Nothing done is not a success, even when nothing failed.
    (Flash.success if outcome.done else Flash.warning)(request, message)
    return view.back_to_list(request, form)


def _act(transition: Transition) -> str:
    return transition.act or transition.label.lower()


async def _review_opened(
    view: ConsoleView,
    request: Request,
    form: FormData,
    ticket_id: int,
    transition: Transition,
    note: str | None,
) -> Response:
    """`transition` on the ticket whose page the employer came from, even if flagged."""
    try:
        async with view.sessions.begin() as session:
            await tickets_service.act_on_ticket(
                session, request.state.employer, transition, ticket_id, note
            )
    except ContosoError as exc:  # hidden meanwhile, or reviewed by someone else
        Flash.warning(request, exc.message)
    else:
        # Worded as a selection's outcome: one way to read a review.
        Flash.success(
            request, outcome_message(transition.done, "ticket", 1, {}, transition.done_detail)
        )
    return view.back_to_list(request, form)


async def _show_tickets(
    view: ConsoleView,
    request: Request,
    transition: Transition,
    ids: list[int],
    *,
    opened: bool,
    note: str = "",
    note_error: str | None = None,
    status: int = 200,
) -> Response:
    """The confirmation of a review, with its note as typed and what was wrong with it.
    Approving a selection lists its flagged tickets apart, approved only when the
    employer ticks the box (`include_flagged`)."""
    async with view.sessions() as session:
        tickets = await tickets_service.tickets_by_ids(session, request.state.employer, ids)
    flagged: Sequence[TicketRead] = []
    if transition.spares_flagged and not opened:
        flagged = [t for t in tickets if t.status in transition.sources and t.flags]
    held_back = {t.id for t in flagged}
    rows = [t for t in tickets if t.id not in held_back]
    acted_on = [t for t in rows if t.status in transition.sources]
    shown = len(tickets)
    heading = transition.question.format(tickets=f"{shown} ticket{'' if shown == 1 else 's'}")
    response = await view.confirmation(
        request,
        transition.label,
        tickets,
        {
            "rows": rows,
            "flagged": flagged,
            "flagged_amount": sum((t.company_amount for t in flagged), Decimal(0)),
            "opened": opened,
            "pks": ",".join(str(i) for i in ids),
            "sources": [s.value for s in transition.sources],
            "pending_count": len(acted_on),
            "total_amount": sum((t.company_amount for t in acted_on), Decimal(0)),
            "missing": len(ids) - len(tickets),
            "with_note": True,
            "note": note,
            "note_required": transition.asks is not None,
            "note_question": transition.asks.question if transition.asks else None,
            "note_error": note_error,
            "heading": heading or None,
            "danger": transition.button == "danger",
        },
    )
    response.status_code = status
    return response


def _note(typed: str, asks: AskedNote | None) -> str | None:
    """The note as the service takes it: optional (`Decision`), or required where the
    transition `asks` for one (`ChangesRequest`); ValueError saying what is wrong with
    it, worded for the confirmation form."""
    if asks is None:
        try:
            return Decision(note=typed).note
        except ValidationError as exc:
            raise ValueError(refusal(exc)) from exc
    if not typed.strip():
        raise ValueError(f"{asks.ask}: {asks.why}.")
    try:
        return ChangesRequest(note=typed).note
    except ValidationError as exc:
        raise ValueError(refusal(exc)) from exc
