"""Reviewing tickets in the console: approving, denying and sending back for changes a
selection of the list, or the ticket whose page the employer came from, each after a
confirmation, through the ticket service. (The actions are TicketAdmin's methods, as
SQLAdmin requires; they call these.)"""

from collections.abc import Sequence
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
from contoso.tickets.workflow import Skip

# Sent by a ticket's own page: decide that one ticket, flagged or not (its flags were
# seen), as `tickets_service.decide_ticket` does.
OPENED_FIELD = "opened"
# The approval confirmation's checkbox: approve the flagged tickets of the selection too.
INCLUDE_FLAGGED_FIELD = "include_flagged"
# The decision's note (optional), or what should change (required to send a ticket back).
NOTE_FIELD = "note"

# The reviews a selection of tickets gets, by the status they lead to: the confirmation's
# button, and the past tense of its outcome.
REVIEW_VERBS = {
    TicketStatus.APPROVED: "Approve",
    TicketStatus.DENIED: "Deny",
    TicketStatus.CHANGES_REQUESTED: "Request changes",
}
REVIEWED = {
    TicketStatus.APPROVED: "Approved",
    TicketStatus.DENIED: "Denied",
    TicketStatus.CHANGES_REQUESTED: "Sent",
}
# A ticket already sent back, skipped by another request for changes.
_SENT_BACK_SKIPS = {Skip.CHANGES_REQUESTED: "already sent back for changes"}
BLANK_CHANGES_NOTE = "Say what should change: the employee reads this note to fix the ticket."


async def request_changes(view: ConsoleView, request: Request) -> Response:
    """Send the pending tickets of the selection back to their owners with a note
    (required) saying what to change; they are decided once resubmitted."""
    form, ids = await selection(request)
    if ids is None:
        Flash.warning(request, "Select at least one ticket to send back for changes first.")
        return view.back_to_list(request, form)
    opened = len(ids) == 1 and (form or request.query_params).get(OPENED_FIELD) == "1"
    review = TicketStatus.CHANGES_REQUESTED
    if form is None:
        return await _show_tickets(view, request, review, ids, opened=opened)
    typed = str(form.get(NOTE_FIELD, ""))
    try:
        note = _changes_note(typed)
    except ValueError as exc:
        return await _show_tickets(
            view, request, review, ids, opened=opened, note=typed, note_error=str(exc), status=400
        )
    if opened:
        return await _decide_opened(view, request, form, ids[0], review, note)
    async with view.sessions.begin() as session:
        outcome = await tickets_service.request_changes(session, request.state.employer, ids, note)
    message = outcome_message(
        REVIEWED[review],
        "ticket",
        len(outcome.done),
        outcome.skipped,
        "back for changes",
        _SENT_BACK_SKIPS,
    )
    (Flash.success if outcome.done else Flash.warning)(request, message)
    return view.back_to_list(request, form)


async def decide(view: ConsoleView, request: Request, decision: TicketStatus) -> Response:
    """Approve or deny (`decision`) the pending tickets of the selection, with an
    optional note; a flagged ticket is approved only when the employer says so."""
    verb = REVIEW_VERBS[decision]
    employer = request.state.employer
    form, ids = await selection(request)
    if ids is None:
        # Said on the list itself, which is still as the employer left it.
        Flash.warning(request, f"Select at least one ticket to {verb.lower()} first.")
        return view.back_to_list(request, form)
    opened = len(ids) == 1 and (form or request.query_params).get(OPENED_FIELD) == "1"
    if form is None:
        return await _show_tickets(view, request, decision, ids, opened=opened)
    typed = str(form.get(NOTE_FIELD, ""))
    try:
        note = Decision(note=typed).note
    except ValidationError as exc:
        return await _show_tickets(
            view,
            request,
            decision,
            ids,
            opened=opened,
            note=typed,
            note_error=refusal(exc),
            status=400,
        )
    past = REVIEWED[decision]
    if opened:
        return await _decide_opened(view, request, form, ids[0], decision, note)
    include_flagged = form.get(INCLUDE_FLAGGED_FIELD) == "on"
    async with view.sessions.begin() as session:
        outcome = await tickets_service.decide_tickets(
            session, employer, ids, decision, note, include_flagged=include_flagged
        )
    message = outcome_message(past, "ticket", len(outcome.done), outcome.skipped)
    # Nothing decided is not a success, even when nothing failed.
    (Flash.success if outcome.done else Flash.warning)(request, message)
    return view.back_to_list(request, form)


async def _decide_opened(
    view: ConsoleView,
    request: Request,
    form: FormData,
    ticket_id: int,
    review: TicketStatus,
    note: str | None,
) -> Response:
    """Decide the ticket whose page the employer came from, even if flagged, or
    send it back for changes (`note` then says what to change)."""
    employer = request.state.employer
    try:
        async with view.sessions.begin() as session:
            if review is TicketStatus.CHANGES_REQUESTED:
                assert note is not None  # required, and checked by the caller
                await tickets_service.request_changes_on_ticket(session, employer, ticket_id, note)
            else:
                await tickets_service.decide_ticket(session, employer, ticket_id, review, note)
    except ContosoError as exc:  # hidden meanwhile, or reviewed by someone else
        Flash.warning(request, exc.message)
    else:
        # Worded as a selection's outcome: one way to read a review.
        detail = "back for changes" if review is TicketStatus.CHANGES_REQUESTED else ""
        Flash.success(request, outcome_message(REVIEWED[review], "ticket", 1, {}, detail))
    return view.back_to_list(request, form)


async def _show_tickets(
    view: ConsoleView,
    request: Request,
    decision: TicketStatus,
    ids: list[int],
    *,
    opened: bool,
    note: str = "",
    note_error: str | None = None,
    status: int = 200,
) -> Response:
    """The confirmation of a review (`decision`: approved, denied, or changes
    requested), with its note as typed and what was wrong with it. Approving a
    selection lists its flagged pending tickets apart, approved only when the
    employer ticks the box (`include_flagged`)."""
    async with view.sessions() as session:
        tickets = await tickets_service.tickets_by_ids(session, request.state.employer, ids)
    flagged: Sequence[TicketRead] = []
    if decision is TicketStatus.APPROVED and not opened:
        flagged = [t for t in tickets if t.status is TicketStatus.PENDING and t.flags]
    held_back = {t.id for t in flagged}
    rows = [t for t in tickets if t.id not in held_back]
    pending = [t for t in rows if t.status is TicketStatus.PENDING]
    sending_back = decision is TicketStatus.CHANGES_REQUESTED
    shown = len(tickets)
    heading = f"Send {shown} ticket{'' if shown == 1 else 's'} back for changes?"
    response = await view.confirmation(
        request,
        REVIEW_VERBS[decision],
        tickets,
        {
            "rows": rows,
            "flagged": flagged,
            "flagged_amount": sum((t.company_amount for t in flagged), Decimal(0)),
            "opened": opened,
            "pks": ",".join(str(i) for i in ids),
            "pending_count": len(pending),
            "total_amount": sum((t.company_amount for t in pending), Decimal(0)),
            "missing": len(ids) - len(tickets),
            "with_note": True,
            "note": note,
            "note_required": sending_back,
            "note_error": note_error,
            "heading": heading if sending_back else None,
        },
    )
    response.status_code = status
    return response


def _changes_note(typed: str) -> str:
    """A request for changes' note as `ChangesRequest` takes it; ValueError saying what
    is wrong with it, worded for the confirmation form."""
    if not typed.strip():
        raise ValueError(BLANK_CHANGES_NOTE)
    try:
        return ChangesRequest(note=typed).note
    except ValidationError as exc:
        raise ValueError(refusal(exc)) from exc
