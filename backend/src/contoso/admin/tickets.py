"""The console's tickets: every visible ticket, decided through the ticket service."""

from decimal import Decimal
from typing import Any, ClassVar

from markupsafe import Markup
from pydantic import ValidationError
from sqladmin import action
from sqladmin.flash import Flash
from sqlalchemy import Select, Subquery, false, or_
from starlette.requests import Request
from starlette.responses import Response

from contoso.admin.views import (
    AnySelect,
    ChoiceFilter,
    ConsoleView,
    contains,
    outcome_message,
    pk_of,
    selection,
)
from contoso.database import estimated_count
from contoso.models import Ticket, TicketStatus
from contoso.tickets import service as tickets_service
from contoso.tickets.display import status_badge
from contoso.tickets.queries import Owner, all_visible_ticket_models
from contoso.tickets.schemas import Decision
from contoso.tickets.service import EXACT_COUNT_LIMIT


def _links(ticket: Ticket, _: str) -> Markup:
    # Links are validated http(s) URLs on the way in; escaped again on the way out.
    return Markup("<br>").join(
        Markup('<a href="{0}" rel="noopener noreferrer nofollow" target="_blank">{0}</a>').format(
            link
        )
        for link in ticket.links
    )


def _employee(ticket: Ticket, _: str) -> Markup:
    return Markup("{}<br><small class='text-muted'>{}</small>").format(
        ticket.owner.username, ticket.owner.email
    )


def _decider(ticket: Ticket, _: str) -> str:
    return ticket.decided_by.username if ticket.decided_by else ""


def _status(ticket: Ticket, _: str) -> Markup:
    return status_badge(ticket.status)


class TicketAdmin(ConsoleView, model=Ticket):
    url_identity = "tickets"
    name = "Ticket"
    name_plural = "Tickets"
    icon = "fa-solid fa-receipt"
    details_template = "ticket_details.html"

    column_list: ClassVar = [
        Ticket.id,
        Ticket.owner_id,
        Ticket.spent_on,
        Ticket.amount,
        Ticket.description,
        Ticket.links,
        Ticket.status,
        Ticket.created_at,
        Ticket.decided_by_id,
        Ticket.decided_at,
        Ticket.decision_note,
    ]
    column_details_list = column_list
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
        Ticket.links: _links,
        Ticket.status: _status,
        Ticket.decided_by_id: _decider,
    }
    column_formatters_detail = column_formatters
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
    column_export_list: ClassVar = [
        "id",
        "owner.email",
        "owner.username",
        "spent_on",
        "amount",
        "description",
        "links",
        "status",
        "created_at",
        "decided_by.username",
        "decided_at",
        "decision_note",
    ]

    def list_query(self, request: Request) -> AnySelect:
        return all_visible_ticket_models()

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

    @action("approve", "Approve", add_in_detail=True, add_in_list=True)
    async def approve(self, request: Request) -> Response:
        return await self._decide(request, TicketStatus.APPROVED)

    @action("deny", "Deny", add_in_detail=True, add_in_list=True)
    async def deny(self, request: Request) -> Response:
        return await self._decide(request, TicketStatus.DENIED)

    async def _decide(self, request: Request, decision: TicketStatus) -> Response:
        verb = "Approve" if decision is TicketStatus.APPROVED else "Deny"
        employer = request.state.employer
        form, ids = await selection(request)
        if ids is None:
            return await self._confirm(
                request, verb, [], {"error": "Select at least one ticket first."}
            )
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
        Flash.success(
            request, outcome_message(past, "ticket", len(outcome.decided), outcome.skipped)
        )
        return self._back_to_list(request)

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
