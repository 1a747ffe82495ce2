"""The console's tickets: every visible ticket, decided through the ticket service."""

from decimal import Decimal
from typing import Any, ClassVar

from markupsafe import Markup
from pydantic import ValidationError
from sqladmin import action
from sqladmin.flash import Flash
from sqlalchemy import Select, Subquery, false, or_
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from contoso.admin.export import ExportColumn
from contoso.admin.views import (
    AnySelect,
    ChoiceFilter,
    ConsoleView,
    contains,
    outcome_message,
    parse_ids,
    pk_of,
    selection,
)
from contoso.database import estimated_count
from contoso.formatting import amount
from contoso.models import Ticket, TicketStatus
from contoso.tickets import service as tickets_service
from contoso.tickets.display import status_badge
from contoso.tickets.queries import Owner, all_visible_ticket_models
from contoso.tickets.schemas import Decision
from contoso.tickets.service import EXACT_COUNT_LIMIT

# The query parameter that narrows the list to one employee's tickets.
EMPLOYEE_PARAMETER = "employee"
# The list shows a description's start; the tooltip and the detail page show it all.
SHORT_DESCRIPTION = 60


def _links(ticket: Ticket, _: str) -> Markup:
    # Links are validated http(s) URLs on the way in; escaped again on the way out.
    listed = Markup("<br>").join(
        Markup('<a href="{0}" rel="noopener noreferrer nofollow" target="_blank">{0}</a>').format(
            link
        )
        for link in ticket.links
    )
    return Markup('<div id="links">{}</div>').format(listed)


def _link_count(ticket: Ticket, _: str) -> Markup:
    """An icon and how many links, opening the ticket's page where they are listed."""
    if not ticket.links:
        return Markup("")
    count = len(ticket.links)
    return Markup(
        '<a href="details/{0}#links" title="{1} link{2}" aria-label="{1} link{2}">'
        '<i class="fa-solid fa-link"></i> {1}</a>'
    ).format(ticket.id, count, "" if count == 1 else "s")


def _short_description(ticket: Ticket, _: str) -> Markup:
    text = ticket.description
    short = text if len(text) <= SHORT_DESCRIPTION else f"{text[:SHORT_DESCRIPTION].rstrip()}…"
    return Markup('<span class="description" title="{}">{}</span>').format(text, short)


def _full_description(ticket: Ticket, _: str) -> Markup:
    return Markup('<span class="keep-lines">{}</span>').format(ticket.description)


def _note(ticket: Ticket, _: str) -> Markup:
    return Markup('<span class="keep-lines">{}</span>').format(ticket.decision_note or "")


def _amount(ticket: Ticket, _: str) -> Markup:
    return Markup('<span class="amount">{}</span>').format(amount(ticket.amount))


def _employee(ticket: Ticket, _: str) -> Markup:
    return Markup(
        '<span class="person" title="{0} <{1}>">{0}<br><small class="text-muted">{1}</small>'
        "</span>"
    ).format(ticket.owner.username, ticket.owner.email)


def _decider(ticket: Ticket, _: str) -> str:
    return ticket.decided_by.username if ticket.decided_by else ""


def _status(ticket: Ticket, _: str) -> Markup:
    return status_badge(ticket.status)


class TicketAdmin(ConsoleView, model=Ticket):
    url_identity = "tickets"
    name = "Ticket"
    name_plural = "Tickets"
    icon = "fa-solid fa-receipt"
    list_template = "ticket_list.html"
    details_template = "ticket_details.html"

    # At 1366 px wide, with the filters beside it: what a reviewer decides by.
    column_list: ClassVar = [
        Ticket.id,
        Ticket.owner_id,
        Ticket.spent_on,
        Ticket.amount,
        Ticket.status,
        Ticket.description,
        Ticket.links,
    ]
    # The detail page: the same, then the rest.
    column_details_list: ClassVar = [
        *column_list,
        Ticket.created_at,
        Ticket.decided_by_id,
        Ticket.decided_at,
        Ticket.decision_note,
    ]
    column_labels: ClassVar = {
        Ticket.id: "#",
        Ticket.amount: "Amount",
        Ticket.description: "Description",
        Ticket.links: "Links",
        Ticket.status: "Status",
        Ticket.owner_id: "Employee",
        Ticket.spent_on: "Spent on",
        Ticket.decided_by_id: "Decided by",
        Ticket.decided_at: "Decided at",
        Ticket.decision_note: "Note",
        Ticket.created_at: "Filed at",
    }
    column_formatters: ClassVar = {
        Ticket.owner_id: _employee,
        Ticket.amount: _amount,
        Ticket.status: _status,
        Ticket.description: _short_description,
        Ticket.links: _link_count,
    }
    column_formatters_detail: ClassVar = column_formatters | {
        Ticket.description: _full_description,
        Ticket.links: _links,
        Ticket.decided_by_id: _decider,
        Ticket.decision_note: _note,
    }
    column_searchable_list: ClassVar = [Ticket.description]
    column_sortable_list: ClassVar = [
        Ticket.spent_on,
        Ticket.amount,
        Ticket.status,
        Ticket.created_at,
    ]
    column_default_sort: ClassVar = [(Ticket.created_at, True), (Ticket.id, True)]
    column_filters: ClassVar = [
        ChoiceFilter(
            Ticket.status,
            [(status.value, status.value.title()) for status in TicketStatus],
            title="Status",
        )
    ]
    export_types: ClassVar = ["csv"]
    # The CSV export (ConsoleView.export_data): the listed tickets, one row each.
    export_columns: ClassVar = [
        ExportColumn("Ticket", lambda ticket: ticket.id),
        ExportColumn("Employee", lambda ticket: ticket.owner.username),
        ExportColumn("Email", lambda ticket: ticket.owner.email),
        ExportColumn("Spent on", lambda ticket: ticket.spent_on),
        ExportColumn("Amount", lambda ticket: ticket.amount),
        ExportColumn("Status", lambda ticket: ticket.status.value.title()),
        ExportColumn("Description", lambda ticket: ticket.description),
        ExportColumn("Links", lambda ticket: ticket.links),
        ExportColumn("Filed at", lambda ticket: ticket.created_at),
        ExportColumn("Decided at", lambda ticket: ticket.decided_at),
        ExportColumn("Decided by", lambda ticket: ticket.decided_by and ticket.decided_by.username),
        ExportColumn("Note", lambda ticket: ticket.decision_note),
    ]

    def list_query(self, request: Request) -> AnySelect:
        # ?employee=<id>: one employee's tickets (their page links here). Exact, unlike a
        # search by email, and the export streams the same rows.
        statement = all_visible_ticket_models()
        employee = request.query_params.get(EMPLOYEE_PARAMETER)
        if employee is None:
            return statement
        ids = parse_ids(employee)
        if ids is None or len(ids) != 1:
            raise HTTPException(400, "There is no such employee to list tickets for.")
        return statement.where(Ticket.owner_id == ids[0])

    def details_query(self, request: Request) -> AnySelect:
        ticket_id = pk_of(request)
        statement = all_visible_ticket_models()
        return statement.where(Ticket.id == ticket_id if ticket_id else false())

    def search_query(self, stmt: AnySelect, term: str) -> AnySelect:
        pattern = contains(term)
        return stmt.where(
            or_(
                Owner.email.ilike(pattern),
                Owner.username.ilike(pattern),
                Ticket.description.ilike(pattern),
            )
        )

    def search_placeholder(self) -> str:
        return "employee email or name, description"

    async def count(self, request: Request, stmt: AnySelect | None = None) -> int:
        # SQLAdmin counts the whole filtered list on every page; over a million
        # tickets that costs more than the page. Exact up to 50,000, estimated above.
        if stmt is None:
            return await super().count(request)
        # SQLAdmin passes SELECT count(*) FROM (<the filtered list>): estimate the list.
        listed = stmt.get_final_froms()[0]
        assert isinstance(listed, Subquery) and isinstance(listed.element, Select)
        async with self.sessions() as session:
            total, _ = await estimated_count(session, listed.element, EXACT_COUNT_LIMIT)
        return total

    async def details_context(self, request: Request) -> dict[str, Any]:
        ticket_id = pk_of(request)
        async with self.sessions() as session:
            history = (
                await tickets_service.ticket_history(session, request.state.employer, ticket_id)
                if ticket_id
                else []
            )
        return {"history": history}

    # SQLAdmin lists actions last defined first: Deny is defined first so that the menu
    # reads Approve, then Deny. The detail page offers them itself, only while the
    # ticket is pending (ticket_details.html).
    @action("deny", "Deny", add_in_detail=False, add_in_list=True)
    async def deny(self, request: Request) -> Response:
        return await self._decide(request, TicketStatus.DENIED)

    @action("approve", "Approve", add_in_detail=False, add_in_list=True)
    async def approve(self, request: Request) -> Response:
        return await self._decide(request, TicketStatus.APPROVED)

    async def _decide(self, request: Request, decision: TicketStatus) -> Response:
        verb = "Approve" if decision is TicketStatus.APPROVED else "Deny"
        employer = request.state.employer
        form, ids = await selection(request)
        if ids is None:
            # Said on the list itself, which is still as the employer left it.
            Flash.warning(request, f"Select at least one ticket to {verb.lower()} first.")
            return self._back_to_list(request, form)
        if form is None:
            return await self._show_tickets(request, verb, ids, {})
        try:
            note = Decision(note=str(form.get("note", ""))).note
        except ValidationError as exc:
            error = "; ".join(e["msg"] for e in exc.errors())
            return await self._show_tickets(request, verb, ids, {"error": error}, status=400)
        async with self.sessions.begin() as session:
            outcome = await tickets_service.decide_tickets(session, employer, ids, decision, note)
        past = "Approved" if decision is TicketStatus.APPROVED else "Denied"
        message = outcome_message(past, "ticket", len(outcome.decided), outcome.skipped)
        # Nothing decided is not a success, even when nothing failed.
        (Flash.success if outcome.decided else Flash.warning)(request, message)
        return self._back_to_list(request, form)

    async def _show_tickets(
        self,
        request: Request,
        verb: str,
        ids: list[int],
        context: dict[str, Any],
        status: int = 200,
    ) -> Response:
        async with self.sessions() as session:
            tickets = await tickets_service.tickets_by_ids(session, request.state.employer, ids)
        pending = [t for t in tickets if t.status is TicketStatus.PENDING]
        response = await self._confirm(
            request,
            verb,
            tickets,
            {
                "pks": ",".join(str(i) for i in ids),
                "pending_count": len(pending),
                "total_amount": sum((t.amount for t in pending), Decimal("0.00")),
                "missing": len(ids) - len(tickets),
                "with_note": True,
            }
            | context,
        )
        response.status_code = status
        return response
