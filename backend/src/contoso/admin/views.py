"""The console's views: read-only lists over the shared queries, actions through the services."""

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from markupsafe import Markup, escape
from pydantic import ValidationError
from sqladmin import ModelView, action
from sqladmin.filters import BooleanFilter, StaticValuesFilter
from sqladmin.flash import Flash
from sqladmin.formatters import BASE_FORMATTERS
from sqladmin.pagination import Pagination
from sqlalchemy import Select, Subquery, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from contoso.database import estimated_count
from contoso.employees import service as employees_service
from contoso.employees.queries import employees, with_ticket_counts
from contoso.employees.schemas import EmployeeSkip
from contoso.models import Event, EventKind, Ticket, TicketStatus, User
from contoso.tickets import service as tickets_service
from contoso.tickets.display import status_badge
from contoso.tickets.queries import Owner, all_visible_ticket_models
from contoso.tickets.schemas import Decision, TicketSkip
from contoso.tickets.service import EXACT_COUNT_LIMIT
from contoso.validation import MAX_RECORD_ID, MAX_SELECTION, search_text
from contoso.web.forms import read_form

# SQLAdmin's hooks take and return statements of any columns.
AnySelect = Select[*tuple[Any, ...]]


def _parse_ids(raw: str) -> list[int] | None:
    """Ids from "1,2,3"; None if any part is not a positive integer."""
    try:
        ids = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        return None
    if not ids or len(ids) > MAX_SELECTION or any(not 1 <= i <= MAX_RECORD_ID for i in ids):
        return None
    return list(dict.fromkeys(ids))


async def _selection(request: Request) -> tuple[FormData | None, list[int] | None]:
    """The submitted form (None on GET) and the selected ids: `pks` in the form or query."""
    form = await read_form(request) if request.method == "POST" else None
    return form, _parse_ids(str((form or request.query_params).get("pks", "")))


def _contains(term: str) -> str:
    """An ILIKE pattern for `term` as typed: its %, _ and backslashes are not wildcards."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _either(choices: Sequence[str]) -> str:
    return f"{', '.join(choices[:-1])} or {choices[-1]}" if len(choices) > 1 else choices[0]


class ChoiceFilter(StaticValuesFilter):
    """A filter on a fixed list of values. Any other value is a 400 naming the choices,
    never a query (an unknown enum value is a database error)."""

    async def get_filtered_query(self, query: AnySelect, value: Any, model: Any) -> AnySelect:
        choices = [choice for choice, _ in self.values]
        if value not in (None, "", "__all", *choices):
            raise HTTPException(
                400,
                f"There is no such {self.parameter_name} to filter by; "
                f"choose {_either(choices)}.",
            )
        filtered: AnySelect = await super().get_filtered_query(query, value, model)
        return filtered


def _pk(request: Request) -> int | None:
    ids = _parse_ids(request.path_params.get("pk", ""))
    return ids[0] if ids and len(ids) == 1 else None


def _outcome_message(
    verb: str, noun: str, done: int, skipped: Mapping[int, TicketSkip | EmployeeSkip]
) -> str:
    message = f"{verb} {done} {noun}{'' if done == 1 else 's'}"
    if skipped:
        reasons = Counter(skipped.values())
        parts = ", ".join(f"{count} {reason.label}" for reason, count in reasons.items())
        message += f"; {len(skipped)} skipped: {parts}"
    return message + "."


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


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# Timestamps to the minute, in UTC, instead of Python's repr with microseconds.
TYPE_FORMATTERS = BASE_FORMATTERS | {datetime: _when}


class ConsoleView(ModelView):
    """Read-only: records change only through the actions, which call the services."""

    column_type_formatters: ClassVar = TYPE_FORMATTERS
    column_type_formatters_detail: ClassVar = TYPE_FORMATTERS
    can_create = False
    can_edit = False
    can_delete = False
    page_size = 50
    page_size_options: ClassVar[Sequence[int]] = [25, 50, 100, 200]
    # The URL segment: /admin/<url_identity>/list.
    url_identity: ClassVar[str] = ""

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        # SQLAdmin types its session maker as sync or async; ours is async (mount_console).
        assert isinstance(self.session_maker, async_sessionmaker)
        return self.session_maker

    async def _confirm(
        self, request: Request, verb: str, items: Sequence[Any], context: dict[str, Any]
    ) -> Response:
        return await self.templates.TemplateResponse(
            request,
            "confirm.html",
            {"model_view": self, "verb": verb, "items": items, "title": verb} | context,
        )

    def _back_to_list(self, request: Request) -> RedirectResponse:
        # 303: the browser follows with a GET, so a reload does not repeat the action.
        return RedirectResponse(request.url_for("admin:list", identity=self.identity), 303)

    async def list(self, request: Request) -> Pagination:
        # Checked before any query: PostgreSQL cannot take NUL in text (a 500 otherwise).
        try:
            search_text(request.query_params.get("search", ""))
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from exc
        return await super().list(request)


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
        ticket_id = _pk(request)
        statement = all_visible_ticket_models()
        return statement.where(Ticket.id == ticket_id if ticket_id else false())

    def search_query(self, stmt: AnySelect, term: str) -> AnySelect:
        pattern = _contains(term)
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
        ticket_id = _pk(request)
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
        form, ids = await _selection(request)
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
            request, _outcome_message(past, "ticket", len(outcome.decided), outcome.skipped)
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


class EmployeeAdmin(ConsoleView, model=User):
    url_identity = "employees"
    name = "Employee"
    name_plural = "Employees"
    icon = "fa-solid fa-users"
    can_export = False

    column_list: ClassVar = [
        User.id,
        User.email,
        User.username,
        User.suspended,
        "pending_tickets",
        "total_tickets",
        User.created_at,
    ]
    column_details_list = column_list
    column_labels: ClassVar = {
        User.id: "#",
        User.email: "Email",
        User.username: "Name",
        User.suspended: "Suspended",
        "pending_tickets": "Pending tickets",
        "total_tickets": "All tickets",
        User.created_at: "Joined",
    }
    column_searchable_list: ClassVar = [User.email, User.username]
    column_sortable_list: ClassVar = [User.email, User.username, User.created_at]
    column_default_sort: ClassVar = [(User.created_at, True), (User.id, True)]
    column_filters: ClassVar = [BooleanFilter(User.suspended, title="Suspended")]

    def search_query(self, stmt: AnySelect, term: str) -> AnySelect:
        pattern = _contains(term)
        return stmt.where(or_(User.email.ilike(pattern), User.username.ilike(pattern)))

    def list_query(self, request: Request) -> AnySelect:
        return with_ticket_counts(employees())

    def details_query(self, request: Request) -> AnySelect:
        employee_id = _pk(request)
        statement = with_ticket_counts(employees())
        return statement.where(User.id == employee_id if employee_id else false())

    @action("suspend", "Suspend", add_in_detail=True, add_in_list=True)
    async def suspend(self, request: Request) -> Response:
        return await self._set_suspended(request, suspend=True)

    @action("reactivate", "Reactivate", add_in_detail=True, add_in_list=True)
    async def reactivate(self, request: Request) -> Response:
        return await self._set_suspended(request, suspend=False)

    async def _set_suspended(self, request: Request, *, suspend: bool) -> Response:
        verb = "Suspend" if suspend else "Reactivate"
        form, ids = await _selection(request)
        if ids is None:
            return await self._confirm(
                request, verb, [], {"error": "Select at least one employee first."}
            )
        if form is None:
            async with self.sessions() as session:
                people = await employees_service.employees_by_ids(
                    session, request.state.employer, ids
                )
            return await self._confirm(
                request,
                verb,
                people,
                {
                    "pks": ",".join(str(i) for i in ids),
                    "missing": len(ids) - len(people),
                },
            )
        change = (
            employees_service.suspend_employees
            if suspend
            else employees_service.reactivate_employees
        )
        async with self.sessions.begin() as session:
            outcome = await change(session, request.state.employer, ids)
        past = "Suspended" if suspend else "Reactivated"
        Flash.success(
            request, _outcome_message(past, "employee", len(outcome.changed), outcome.skipped)
        )
        return self._back_to_list(request)


AUDITED = (
    EventKind.TICKET_APPROVED,
    EventKind.TICKET_DENIED,
    EventKind.EMPLOYEE_SUSPENDED,
    EventKind.EMPLOYEE_REACTIVATED,
)


def _event_subject(event: Event, _: str) -> Markup:
    if event.ticket_id is not None:
        return Markup('<a href="../tickets/details/{0}">Ticket #{0}</a>').format(event.ticket_id)
    subject = event.subject
    return escape(f"{subject.username} <{subject.email}>" if subject else "")


class AuditLogAdmin(ConsoleView, model=Event):
    url_identity = "audit-log"
    name = "Audit entry"
    name_plural = "Audit log"
    icon = "fa-solid fa-clipboard-list"
    can_view_details = False
    export_types: ClassVar = ["csv"]

    column_list: ClassVar = [Event.created_at, Event.kind, Event.actor, "subject", Event.note]
    column_labels: ClassVar = {
        Event.created_at: "When",
        Event.kind: "What",
        Event.actor: "Who",
        "subject": "About",
        Event.note: "Note",
    }
    column_formatters: ClassVar = {
        Event.actor: lambda event, _: event.actor.username,
        "subject": _event_subject,
    }
    column_default_sort: ClassVar = [(Event.created_at, True), (Event.id, True)]
    column_filters: ClassVar = [
        ChoiceFilter(Event.kind, [(kind.value, kind.value) for kind in AUDITED], title="What")
    ]
    # Shown as text: an employer actor has no page in the employee view.
    non_link_related_fields: ClassVar = [Event.actor, "subject"]
    column_export_list: ClassVar = [
        "created_at",
        "kind",
        "actor.username",
        "ticket_id",
        "subject.email",
        "note",
    ]

    def list_query(self, request: Request) -> AnySelect:
        return select(Event).where(Event.kind.in_(AUDITED))


CONSOLE_VIEWS: tuple[type[ConsoleView], ...] = (TicketAdmin, EmployeeAdmin, AuditLogAdmin)
