"""The console's tickets: every visible ticket, its page, its filters and its actions,
decided through the ticket service. How each column shows is in `ticket_columns`, the
reviews' flow in `ticket_reviews`, marking tickets paid in `payments`."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqladmin import action, expose
from sqladmin.flash import Flash
from sqlalchemy import Select, Subquery, false, or_
from sqlalchemy.orm import joinedload
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from contoso.admin import ticket_columns as columns
from contoso.admin import ticket_reviews
from contoso.admin.compat import ALL_VALUES, AnySelect, ColumnFilter, add_actions
from contoso.admin.flags import flag_reasons
from contoso.admin.money import company_amount, ticket_amount
from contoso.admin.payments import pay_selection
from contoso.admin.views import (
    ChoiceFilter,
    ConsoleView,
    ServiceLookup,
    contains,
    parse_ids,
    pk_of,
    refusal,
    single_id,
)
from contoso.browser.forms import read_form
from contoso.categories import service as categories_service
from contoso.comments import service as comments_service
from contoso.comments.schemas import CommentCreate
from contoso.database import estimated_count
from contoso.models import EventKind, Ticket, TicketFlag
from contoso.receipts import service as receipts_service
from contoso.receipts.download import receipt_response
from contoso.receipts.files import stored_type
from contoso.tickets import service as tickets_service
from contoso.tickets.display import (
    FLAG_LABELS,
    edits_in_words,
)
from contoso.tickets.fields import label
from contoso.tickets.queries import TicketFilters, all_visible_ticket_models
from contoso.tickets.schemas import (
    ReceiptSummary,
    TicketRead,
)
from contoso.tickets.service import EXACT_COUNT_LIMIT
from contoso.tickets.workflow import PAY, STATUSES, TRANSITIONS
from contoso.visibility import Owner

# The query parameter that narrows the list to one employee's tickets.
EMPLOYEE_PARAMETER = "employee"
# The ticket page's new comment.
COMMENT_FIELD = "body"

# A ticket's history on its page, in words: the changes of status as declared.
HISTORY_LABELS = {
    EventKind.TICKET_CREATED: "Filed",
    EventKind.TICKET_EDITED: "Edited",
    EventKind.TICKET_RECEIPT_ADDED: "Receipt added",
    EventKind.TICKET_RECEIPT_REMOVED: "Receipt removed",
    EventKind.TICKET_COMMENTED: "Comment",
} | {t.event: t.history_label for t in TRANSITIONS.values()}
# The status filter's choices, in the order a ticket goes through them (as declared).
STATUS_ORDER = tuple(STATUSES)


class CategoryFilter(ServiceLookup):
    """Tickets of one category (active or not), by id; the choices come from the
    category service."""

    title = "Category"
    parameter_name = "category"

    async def lookups(
        self, request: Request, model: Any, run_query: Callable[[Select[Any]], Any]
    ) -> list[tuple[str, str]]:
        async with self.sessions() as session:
            categories = await categories_service.list_categories(
                session, request.state.employer, include_inactive=True
            )
        return [(ALL_VALUES, "All")] + [
            (str(c.id), c.name if c.active else f"{c.name} (inactive)") for c in categories
        ]

    async def get_filtered_query(self, query: AnySelect, value: Any, model: Any) -> AnySelect:
        if value in (None, "", ALL_VALUES):
            return query
        category_id = single_id(str(value))
        if category_id is None:
            raise HTTPException(400, "There is no such category to filter by; choose one listed.")
        return TicketFilters(category_id=category_id).apply(query)


# Any flag, none, or one: as the API's `flagged` and `flag` narrow its list.
_FLAG_FILTERS = {"flagged": TicketFilters(flagged=True), "unflagged": TicketFilters(flagged=False)}
_FLAG_FILTERS |= {flag.value: TicketFilters(flag=flag) for flag in TicketFlag}


class FlagFilter(ChoiceFilter):
    def __init__(self) -> None:
        choices = [("flagged", "Any flag"), ("unflagged", "No flags")]
        choices += [(flag.value, FLAG_LABELS[flag]) for flag in TicketFlag]
        super().__init__(Ticket.flags, choices, title="Flags", parameter_name="flag")

    async def get_filtered_query(self, query: AnySelect, value: Any, model: Any) -> AnySelect:
        chosen = self.chosen(value)
        return query if chosen is None else _FLAG_FILTERS[chosen].apply(query)


@dataclass(frozen=True)
class ShownReceipt:
    """A receipt as a ticket's page shows it: a thumbnail for images, a link for PDFs."""

    receipt: ReceiptSummary
    url: str
    is_image: bool


class TicketAdmin(ConsoleView, model=Ticket):
    url_identity = "tickets"
    name = "Ticket"
    name_plural = "Tickets"
    icon = "fa-solid fa-receipt"
    list_template = "ticket_list.html"
    details_template = "ticket_details.html"

    # Which fields the list, the page and the export show, and how: `ticket_columns`.
    column_list: ClassVar = [getattr(Ticket, columns.column(n)) for n in columns.LIST_FIELDS]
    # The detail page: the list's, the amount as spent and its conversion, the flags
    # and category apart, then the rest (`ticket_columns.DETAIL_FIELDS`).
    column_details_list: ClassVar = [
        getattr(Ticket, columns.column(name)) for name in columns.DETAIL_FIELDS
    ]
    # Every field by its label (`tickets.fields`), a few as the console names them.
    column_labels: ClassVar = {
        getattr(Ticket, columns.column(name)): columns.CONSOLE_LABELS.get(name) or label(name)
        for name in columns.DETAIL_FIELDS
    }
    # Text as typed unless a field shows otherwise.
    column_formatters: ClassVar = {
        **columns.text_formatters(columns.LIST_FIELDS),
        Ticket.owner_id: columns.employee,
        Ticket.status: columns.status_and_flags,
        Ticket.description: columns.short_description,
        Ticket.links: columns.link_count,
    }
    column_formatters_detail: ClassVar = {
        **columns.text_formatters(columns.DETAIL_FIELDS),
        **column_formatters,
        Ticket.owner_id: columns.employee_in_full,
        Ticket.currency: columns.currency,
        Ticket.status: columns.status,
        Ticket.category_id: columns.category_detail,
        Ticket.description: columns.full_description,
        Ticket.links: columns.links,
        Ticket.decided_by_id: columns.decider,
        Ticket.decision_note: columns.note,
        Ticket.paid_by_id: columns.payer,
        Ticket.payment_id: columns.payment,
    }
    column_searchable_list: ClassVar = [getattr(Ticket, n) for n in columns.SEARCHED_FIELDS]
    column_sortable_list: ClassVar = [
        Ticket.spent_on,
        Ticket.company_amount,
        Ticket.status,
        Ticket.created_at,
    ]
    column_default_sort: ClassVar = [(Ticket.created_at, True), (Ticket.id, True)]
    column_filters: ClassVar = [
        ChoiceFilter(
            Ticket.status,
            [(status.value, columns.status_label(status)) for status in STATUS_ORDER],
            title="Status",
        ),
        FlagFilter(),
    ]
    export_types: ClassVar = ["csv"]

    @classmethod
    def for_app(cls, zone: ZoneInfo, company_currency: str) -> type[ConsoleView]:
        view = super().for_app(zone, company_currency)
        # Amounts in the company's currency, which the row does not name.
        view.column_formatters = cls.column_formatters | {
            Ticket.company_amount: lambda ticket, _: ticket_amount(ticket, company_currency)
        }
        view.column_formatters_detail = cls.column_formatters_detail | {
            Ticket.company_amount: lambda ticket, _: company_amount(ticket, company_currency),
            # The amount as spent, its rate and the rate's date: rows of converted
            # tickets only.
            Ticket.amount: columns.when_converted(company_currency, columns.spent),
            Ticket.exchange_rate: columns.when_converted(
                company_currency, columns.rate(company_currency)
            ),
            Ticket.rate_date: columns.when_converted(company_currency, columns.rate_date),
            Ticket.flags: lambda ticket, _: flag_reasons(
                ticket.flags, ticket.category, ticket.duplicate_of, company_currency
            ),
        }
        view.export_columns = columns.ticket_export_columns(company_currency)
        return view

    def get_filters(self) -> list[ColumnFilter]:
        # Status, category, flags: the category choices are read per request.
        status, flags = self.column_filters
        return [status, CategoryFilter(self.sessions), flags]

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
        # The page, unlike the list, shows who paid and in which batch.
        statement = all_visible_ticket_models().options(
            joinedload(Ticket.paid_by), joinedload(Ticket.payment)
        )
        return statement.where(Ticket.id == ticket_id if ticket_id else false())

    def search_query(self, stmt: AnySelect, term: str) -> AnySelect:
        pattern = contains(term)
        return stmt.where(
            or_(
                Owner.email.ilike(pattern),
                Owner.username.ilike(pattern),
                *(getattr(Ticket, name).ilike(pattern) for name in columns.SEARCHED_FIELDS),
            )
        )

    def search_placeholder(self) -> str:
        searched = (label(name).lower() for name in columns.SEARCHED_FIELDS)
        return ", ".join(("employee email or name", *searched))

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
        context: dict[str, Any] = {"history_labels": HISTORY_LABELS, "comment_field": COMMENT_FIELD}
        if ticket_id is None:
            return context | {
                "history": [],
                "receipts": [],
                "comments": [],
                "ticket": None,
                "reviews": [],
            }
        employer = request.state.employer
        # NotFound if hidden since the page's own query (a suspension): a 404 page.
        async with self.sessions() as session:
            history = await tickets_service.ticket_history(session, employer, ticket_id)
            ticket = await tickets_service.get_ticket(session, employer, ticket_id)
            comments = await comments_service.list_comments(session, employer, ticket_id)
        receipts = [
            ShownReceipt(
                receipt,
                self._receipt_url(request, ticket, receipt),
                stored_type(receipt.content_type).is_image,
            )
            for receipt in ticket.receipts
        ]
        own = ticket.owner.id == request.state.employer.id
        # `ticket`: as every door shows it, with who asked for changes.
        return context | {
            # Each event with what it changed, in words.
            "history": list(
                zip(
                    history,
                    edits_in_words(history, ticket.currency, self.company_currency),
                    strict=True,
                )
            ),
            "receipts": receipts,
            "comments": comments,
            "ticket": ticket,
            # What the employer may do with it from here, as buttons: nothing on their own
            # ticket, which another employer decides and pays.
            "own_ticket": own,
            "reviews": [] if own else ticket_reviews.reviews_from(ticket.status),
            "waiting": ticket_reviews.waiting(ticket.status),
        }

    @staticmethod
    def _receipt_url(request: Request, ticket: TicketRead, receipt: ReceiptSummary) -> str:
        url = request.url_for(
            "admin:view-tickets-receipt", ticket_id=ticket.id, receipt_id=receipt.id
        )
        return url.path

    @expose("/{ticket_id}/receipts/{receipt_id}")
    async def receipt(self, request: Request) -> Response:
        """A receipt's file for the console (thumbnails and downloads), served as every
        door serves it; 404 for anything the employer may not see or that is absent."""
        ticket_id = single_id(request.path_params["ticket_id"])
        receipt_id = single_id(request.path_params["receipt_id"])
        if ticket_id is None or receipt_id is None:
            raise HTTPException(404, "There is no such receipt.")
        async with self.sessions() as session:
            found = await receipts_service.get_receipt(
                session, request.state.employer, ticket_id, receipt_id
            )
        # Read after the session closed: a slow download holds no connection.
        return receipt_response(request.app.state.receipt_storage, found)

    @expose("/{ticket_id}/comments", methods=["POST"])
    async def add_comment(self, request: Request) -> Response:
        """Comment on the ticket from its page (the form carries the CSRF token the
        middleware checks), then back to the comments; a refused comment says why there."""
        ticket_id = single_id(request.path_params["ticket_id"])
        if ticket_id is None:
            raise HTTPException(404, "There is no such ticket.")
        form = await read_form(request)
        try:
            comment = CommentCreate(body=str(form.get(COMMENT_FIELD, "")))
        except ValidationError as exc:
            Flash.warning(request, refusal(exc))
        else:
            # NotFound (a 404 page) if the ticket is hidden or absent.
            async with self.sessions.begin() as session:
                await comments_service.add_comment(
                    session, request.state.employer, ticket_id, comment
                )
        page = request.url_for("admin:details", identity=self.identity, pk=ticket_id)
        return RedirectResponse(f"{page.path}#comments", 303)

    # The reviews (Approve, Deny, Request changes...) are added below, listed before
    # this one; the detail page offers those a ticket's status allows itself
    # (ticket_details.html).
    @action(PAY.slug, PAY.label, add_in_detail=False, add_in_list=True)
    async def pay(self, request: Request) -> Response:
        return await pay_selection(self, request)


# One action per review the workflow declares, in its order.
add_actions(TicketAdmin, ticket_reviews.actions())
