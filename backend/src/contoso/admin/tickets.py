"""The console's tickets: every visible ticket, decided through the ticket service."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from markupsafe import Markup
from pydantic import ValidationError
from sqladmin import action, expose
from sqladmin.flash import Flash
from sqlalchemy import Select, Subquery, false, or_
from sqlalchemy.orm import joinedload
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from contoso.admin.compat import ALL_VALUES, AnySelect, ColumnFilter
from contoso.admin.export import ExportColumn
from contoso.admin.flags import flag_reasons
from contoso.admin.money import company_amount, currency_name, ticket_amount
from contoso.admin.views import (
    ChoiceFilter,
    ConsoleView,
    ServiceLookup,
    contains,
    outcome_message,
    parse_ids,
    pk_of,
    selection,
    single_id,
)
from contoso.categories import service as categories_service
from contoso.comments import service as comments_service
from contoso.comments.schemas import CommentCreate
from contoso.database import estimated_count
from contoso.errors import ContosoError
from contoso.formatting import isolated, money, plain_money, rate_of
from contoso.models import EventKind, Ticket, TicketFlag, TicketStatus
from contoso.payments import service as payments_service
from contoso.payments.schemas import PaymentCreate, PaymentReport, PaymentSkipped
from contoso.receipts import service as receipts_service
from contoso.receipts.download import receipt_response
from contoso.receipts.files import stored_type
from contoso.tickets import service as tickets_service
from contoso.tickets.display import (
    FLAG_LABELS,
    edits_in_words,
    flag_badges,
    status_badge,
    status_words,
)
from contoso.tickets.queries import Owner, TicketFilters, all_visible_ticket_models
from contoso.tickets.schemas import (
    ChangesRequest,
    Decision,
    ReceiptSummary,
    TicketRead,
)
from contoso.tickets.service import EXACT_COUNT_LIMIT
from contoso.tickets.workflow import Skip
from contoso.web.forms import read_form

# The query parameter that narrows the list to one employee's tickets.
EMPLOYEE_PARAMETER = "employee"
# The list shows a description's start; the tooltip and the detail page show it all.
SHORT_DESCRIPTION = 60
# Sent by a ticket's own page: decide that one ticket, flagged or not (its flags were
# seen), as `tickets_service.decide_ticket` does.
OPENED_FIELD = "opened"
# The approval confirmation's checkbox: approve the flagged tickets of the selection too.
INCLUDE_FLAGGED_FIELD = "include_flagged"
# The payment confirmation's bank or payment reference (blank: generated).
REFERENCE_FIELD = "reference"
# The decision's note (optional), or what should change (required to send a ticket back).
NOTE_FIELD = "note"
# The ticket page's new comment.
COMMENT_FIELD = "body"

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

# A ticket's history on its page, in words.
HISTORY_LABELS = {
    EventKind.TICKET_CREATED: "Filed",
    EventKind.TICKET_EDITED: "Edited",
    EventKind.TICKET_RECEIPT_ADDED: "Receipt added",
    EventKind.TICKET_RECEIPT_REMOVED: "Receipt removed",
    EventKind.TICKET_CHANGES_REQUESTED: "Changes requested",
    EventKind.TICKET_RESUBMITTED: "Resubmitted",
    EventKind.TICKET_COMMENTED: "Comment",
    EventKind.TICKET_APPROVED: "Approved",
    EventKind.TICKET_DENIED: "Denied",
    EventKind.TICKET_PAID: "Paid",
}
# The status filter's choices, in the order a ticket goes through them.
STATUS_ORDER = (
    TicketStatus.PENDING,
    TicketStatus.CHANGES_REQUESTED,
    TicketStatus.APPROVED,
    TicketStatus.DENIED,
    TicketStatus.PAID,
)


def status_label(status: TicketStatus) -> str:
    """`Changes requested`: a status as a filter or a spreadsheet names it."""
    return status_words(status).capitalize()


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


def _links(ticket: Ticket, _: str) -> Markup:
    if not ticket.links:
        return Markup("")  # no row (ticket_details.html)
    # Links are validated http(s) URLs on the way in; escaped again on the way out.
    listed = Markup("<br>").join(
        Markup('<a href="{0}" rel="noopener noreferrer nofollow" target="_blank">{1}</a>').format(
            link, isolated(link)
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
    """The list's description cell: its start, and beneath it the category."""
    text = ticket.description
    short = text if len(text) <= SHORT_DESCRIPTION else f"{text[:SHORT_DESCRIPTION].rstrip()}…"
    return Markup('<span class="description" title="{}" dir="auto">{}</span><br>{}').format(
        text, short, _category_badge(ticket)
    )


def _full_description(ticket: Ticket, _: str) -> Markup:
    return Markup('<span class="keep-lines" dir="auto">{}</span>').format(ticket.description)


def _note(ticket: Ticket, _: str) -> Markup:
    if not ticket.decision_note:
        return Markup("")
    return Markup('<span class="keep-lines" dir="auto">{}</span>').format(ticket.decision_note)


def _spent(ticket: Ticket, _: str) -> Markup:
    return Markup('<span class="spent">{}</span>').format(money(ticket.amount, ticket.currency))


def _currency(ticket: Ticket, _: str) -> Markup:
    return currency_name(ticket.currency)


def _rate_date(ticket: Ticket, _: str) -> Markup:
    return Markup('<span class="rate-date">{}</span>').format(ticket.rate_date)


def _rate(company: str) -> Callable[[Ticket, str], Markup]:
    """The detail page's rate: `1 EUR = $1.1512`."""

    def formatted(ticket: Ticket, _: str) -> Markup:
        return Markup('<span class="exchange-rate">{}</span>').format(
            rate_of(ticket.exchange_rate, ticket.currency, company)
        )

    return formatted


def _when_converted(
    company: str, shown: Callable[[Ticket, str], Markup]
) -> Callable[[Ticket, str], Markup]:
    """`shown` on the page of a ticket spent in another currency than `company`; for
    one spent in `company` nothing, so the row is not drawn (its amount says it all)."""

    def formatted(ticket: Ticket, name: str) -> Markup:
        return Markup("") if ticket.currency == company else shown(ticket, name)

    return formatted


def _employee(ticket: Ticket, _: str) -> Markup:
    # `person`: cut to the list's column (_ticket_style.html); the tooltip has it all.
    return Markup(
        '<span class="person" title="{0} <{1}>">{2}<br><small class="text-muted">{3}</small>'
        "</span>"
    ).format(
        ticket.owner.username,
        ticket.owner.email,
        isolated(ticket.owner.username),
        isolated(ticket.owner.email),
    )


def _employee_in_full(ticket: Ticket, _: str) -> Markup:
    return Markup('{0}<br><small class="text-muted">{1}</small>').format(
        isolated(ticket.owner.username), isolated(ticket.owner.email)
    )


def _decider(ticket: Ticket, _: str) -> Markup:
    return isolated(ticket.decided_by.username) if ticket.decided_by else Markup("")


def _status(ticket: Ticket, _: str) -> Markup:
    return status_badge(ticket.status)


# At 1366 px wide the list has no width to spare for two more columns: the flags stack
# under the status and the category under the description (_ticket_style.html).
def _status_and_flags(ticket: Ticket, _: str) -> Markup:
    """The list's status cell: the status, and beneath it the flags."""
    if not ticket.flags:
        return status_badge(ticket.status)
    return Markup('{}<span class="flags">{}</span>').format(
        status_badge(ticket.status), flag_badges(ticket.flags)
    )


def _category_name(ticket: Ticket) -> str:
    return ticket.category.name + ("" if ticket.category.active else " (inactive)")


def _category_badge(ticket: Ticket) -> Markup:
    return Markup(
        '<span class="badge bg-azure-lt category" title="Category: {0}">{1}</span>'
    ).format(_category_name(ticket), isolated(ticket.category.name))


def _category_detail(ticket: Ticket, _: str) -> Markup:
    return Markup("{}{}").format(
        isolated(ticket.category.name), "" if ticket.category.active else " (inactive)"
    )


def _flag_names(ticket: Ticket) -> str:
    return ", ".join(FLAG_LABELS[TicketFlag(flag)] for flag in ticket.flags)


def _payer(ticket: Ticket, _: str) -> Markup:
    return isolated(ticket.paid_by.username) if ticket.paid_by else Markup("")


def _payment(ticket: Ticket, _: str) -> Markup:
    """The batch a paid ticket went out in: its reference, opening its page."""
    if ticket.payment is None:
        return Markup("")
    return Markup('<a id="payment" href="../../payments/details/{0}">{1}</a>').format(
        ticket.payment.id, isolated(ticket.payment.reference)
    )


def _paid_message(report: PaymentReport) -> str:
    """`Paid 12 tickets (3 employees, 1,234.50) as PAY-…; 2 skipped: 1 not approved.`"""
    people = len(report.employees)
    return outcome_message(
        "Paid",
        "ticket",
        report.tickets,
        {skip.id: skip.reason for skip in report.skipped},
        f"({people} employee{'' if people == 1 else 's'}, {money(report.total, report.currency)})"
        f" as {report.reference}",
    )


@dataclass(frozen=True)
class SkippedTicket:
    """A selected ticket a payment would leave out: why, and the ticket if visible."""

    skip: PaymentSkipped
    ticket: TicketRead | None


class TicketAdmin(ConsoleView, model=Ticket):
    url_identity = "tickets"
    name = "Ticket"
    name_plural = "Tickets"
    icon = "fa-solid fa-receipt"
    list_template = "ticket_list.html"
    details_template = "ticket_details.html"

    # At 1366 px wide, with the filters beside it: what a reviewer decides by. The
    # amount is the company's (comparable, sorted by), with the original beneath it.
    column_list: ClassVar = [
        Ticket.id,
        Ticket.owner_id,
        Ticket.spent_on,
        Ticket.company_amount,
        Ticket.status,
        Ticket.description,
        Ticket.links,
    ]
    # The detail page: the same, the amount as spent and its conversion, the flags and
    # category apart, then the rest.
    column_details_list: ClassVar = [
        *column_list[:4],
        Ticket.amount,
        Ticket.currency,
        Ticket.exchange_rate,
        Ticket.rate_date,
        Ticket.status,
        Ticket.flags,
        Ticket.category_id,
        *column_list[5:],
        Ticket.created_at,
        Ticket.decided_by_id,
        Ticket.decided_at,
        Ticket.decision_note,
        Ticket.paid_at,
        Ticket.paid_by_id,
        Ticket.payment_id,
    ]
    column_labels: ClassVar = {
        Ticket.id: "#",
        Ticket.company_amount: "Amount",
        Ticket.amount: "Amount spent",
        Ticket.currency: "Currency",
        Ticket.exchange_rate: "Exchange rate",
        Ticket.rate_date: "Rate valid from",
        Ticket.description: "Description",
        Ticket.links: "Links",
        Ticket.status: "Status",
        Ticket.flags: "Flags",
        Ticket.category_id: "Category",
        Ticket.owner_id: "Employee",
        Ticket.spent_on: "Spent on",
        Ticket.decided_by_id: "Decided by",
        Ticket.decided_at: "Decided at",
        Ticket.decision_note: "Note",
        Ticket.created_at: "Filed at",
        Ticket.paid_at: "Paid at",
        Ticket.paid_by_id: "Paid by",
        Ticket.payment_id: "Payment",
    }
    column_formatters: ClassVar = {
        Ticket.owner_id: _employee,
        Ticket.status: _status_and_flags,
        Ticket.description: _short_description,
        Ticket.links: _link_count,
    }
    column_formatters_detail: ClassVar = column_formatters | {
        Ticket.owner_id: _employee_in_full,
        Ticket.currency: _currency,
        Ticket.status: _status,
        Ticket.category_id: _category_detail,
        Ticket.description: _full_description,
        Ticket.links: _links,
        Ticket.decided_by_id: _decider,
        Ticket.decision_note: _note,
        Ticket.paid_by_id: _payer,
        Ticket.payment_id: _payment,
    }
    column_searchable_list: ClassVar = [Ticket.description]
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
            [(status.value, status_label(status)) for status in STATUS_ORDER],
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
            Ticket.amount: _when_converted(company_currency, _spent),
            Ticket.exchange_rate: _when_converted(company_currency, _rate(company_currency)),
            Ticket.rate_date: _when_converted(company_currency, _rate_date),
            Ticket.flags: lambda ticket, _: flag_reasons(
                ticket.flags, ticket.category, ticket.duplicate_of, company_currency
            ),
        }
        view.export_columns = ticket_export_columns(company_currency)
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
        context: dict[str, Any] = {"history_labels": HISTORY_LABELS, "comment_field": COMMENT_FIELD}
        if ticket_id is None:
            return context | {"history": [], "receipts": [], "comments": [], "ticket": None}
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
            Flash.warning(request, _refusal(exc))
        else:
            # NotFound (a 404 page) if the ticket is hidden or absent.
            async with self.sessions.begin() as session:
                await comments_service.add_comment(
                    session, request.state.employer, ticket_id, comment
                )
        page = request.url_for("admin:details", identity=self.identity, pk=ticket_id)
        return RedirectResponse(f"{page.path}#comments", 303)

    # SQLAdmin lists actions last defined first: Mark paid, Request changes, then Deny
    # are defined first so that the menu reads Approve, Deny, Request changes, Mark paid.
    # The detail page offers Approve, Deny and Request changes itself, only while the
    # ticket is pending (ticket_details.html).
    @action("pay", "Mark paid", add_in_detail=False, add_in_list=True)
    async def pay(self, request: Request) -> Response:
        form, ids = await selection(request)
        if ids is None:
            Flash.warning(request, "Select at least one ticket to mark paid first.")
            return self._back_to_list(request, form)
        if form is None:
            return await self._show_payment(request, ids)
        typed = str(form.get(REFERENCE_FIELD, ""))
        try:
            reference = PaymentCreate(ticket_ids=ids, reference=typed).reference
        except ValidationError as exc:
            error = "; ".join(e["msg"] for e in exc.errors())
            return await self._show_payment(request, ids, form, typed, error, 400)
        try:
            async with self.sessions.begin() as session:
                report = await payments_service.pay_tickets(
                    session, request.state.employer, ids, reference
                )
        except ContosoError as exc:  # nothing payable, or the reference taken: nothing paid
            return await self._payment_refused(request, form, ids, typed, exc)
        Flash.success(request, _paid_message(report))
        return self._back_to_list(request, form)

    async def _payment_refused(
        self, request: Request, form: FormData, ids: list[int], typed: str, error: ContosoError
    ) -> Response:
        """Nothing paid. While some of the selection can still be paid (the reference
        was the problem) the form comes back to fix it; otherwise the list says why, as
        a decision that decides nothing does."""
        async with self.sessions() as session:
            preview = await payments_service.preview_payment(session, request.state.employer, ids)
        if preview.employees:
            return await self._show_payment(
                request, ids, form, typed, error.message, error.status_code
            )
        Flash.warning(request, error.message)
        return self._back_to_list(request, form)

    async def _show_payment(
        self,
        request: Request,
        ids: list[int],
        form: FormData | None = None,
        reference: str = "",
        error: str | None = None,
        status: int = 200,
    ) -> Response:
        """The payment's confirmation: what each employee is paid, the grand total, and
        the tickets left out with why, all as `payments_service` will decide them."""
        employer = request.state.employer
        async with self.sessions() as session:
            preview = await payments_service.preview_payment(session, employer, ids)
            left_out = [skip.id for skip in preview.skipped]
            shown = await tickets_service.tickets_by_ids(session, employer, left_out)
        by_id = {ticket.id: ticket for ticket in shown}
        return await self.templates.TemplateResponse(
            request,
            "confirm_payment.html",
            {
                "model_view": self,
                "title": "Mark paid",
                "selected": len(ids),
                "preview": preview,
                "skipped": [SkippedTicket(skip, by_id.get(skip.id)) for skip in preview.skipped],
                "pks": ",".join(str(i) for i in ids),
                "back": self.list_to_return_to(request, form),
                "reference": reference,
                "reference_field": REFERENCE_FIELD,
                "error": error,
            },
            status_code=status,
        )

    @action("request-changes", "Request changes", add_in_detail=False, add_in_list=True)
    async def request_changes(self, request: Request) -> Response:
        """Send the pending tickets of the selection back to their owners with a note
        (required) saying what to change; they are decided once resubmitted."""
        form, ids = await selection(request)
        if ids is None:
            Flash.warning(request, "Select at least one ticket to send back for changes first.")
            return self._back_to_list(request, form)
        opened = len(ids) == 1 and (form or request.query_params).get(OPENED_FIELD) == "1"
        review = TicketStatus.CHANGES_REQUESTED
        if form is None:
            return await self._show_tickets(request, review, ids, opened=opened)
        typed = str(form.get(NOTE_FIELD, ""))
        try:
            note = _changes_note(typed)
        except ValueError as exc:
            return await self._show_tickets(
                request, review, ids, opened=opened, note=typed, note_error=str(exc), status=400
            )
        if opened:
            return await self._decide_opened(request, form, ids[0], review, note)
        async with self.sessions.begin() as session:
            outcome = await tickets_service.request_changes(
                session, request.state.employer, ids, note
            )
        message = outcome_message(
            REVIEWED[review],
            "ticket",
            len(outcome.done),
            outcome.skipped,
            "back for changes",
            _SENT_BACK_SKIPS,
        )
        (Flash.success if outcome.done else Flash.warning)(request, message)
        return self._back_to_list(request, form)

    @action("deny", "Deny", add_in_detail=False, add_in_list=True)
    async def deny(self, request: Request) -> Response:
        return await self._decide(request, TicketStatus.DENIED)

    @action("approve", "Approve", add_in_detail=False, add_in_list=True)
    async def approve(self, request: Request) -> Response:
        return await self._decide(request, TicketStatus.APPROVED)

    async def _decide(self, request: Request, decision: TicketStatus) -> Response:
        verb = REVIEW_VERBS[decision]
        employer = request.state.employer
        form, ids = await selection(request)
        if ids is None:
            # Said on the list itself, which is still as the employer left it.
            Flash.warning(request, f"Select at least one ticket to {verb.lower()} first.")
            return self._back_to_list(request, form)
        opened = len(ids) == 1 and (form or request.query_params).get(OPENED_FIELD) == "1"
        if form is None:
            return await self._show_tickets(request, decision, ids, opened=opened)
        typed = str(form.get(NOTE_FIELD, ""))
        try:
            note = Decision(note=typed).note
        except ValidationError as exc:
            return await self._show_tickets(
                request,
                decision,
                ids,
                opened=opened,
                note=typed,
                note_error=_refusal(exc),
                status=400,
            )
        past = REVIEWED[decision]
        if opened:
            return await self._decide_opened(request, form, ids[0], decision, note)
        include_flagged = form.get(INCLUDE_FLAGGED_FIELD) == "on"
        async with self.sessions.begin() as session:
            outcome = await tickets_service.decide_tickets(
                session, employer, ids, decision, note, include_flagged=include_flagged
            )
        message = outcome_message(past, "ticket", len(outcome.done), outcome.skipped)
        # Nothing decided is not a success, even when nothing failed.
        (Flash.success if outcome.done else Flash.warning)(request, message)
        return self._back_to_list(request, form)

    async def _decide_opened(
        self,
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
            async with self.sessions.begin() as session:
                if review is TicketStatus.CHANGES_REQUESTED:
                    assert note is not None  # required, and checked by the caller
                    await tickets_service.request_changes_on_ticket(
                        session, employer, ticket_id, note
                    )
                else:
                    await tickets_service.decide_ticket(session, employer, ticket_id, review, note)
        except ContosoError as exc:  # hidden meanwhile, or reviewed by someone else
            Flash.warning(request, exc.message)
        else:
            # Worded as a selection's outcome: one way to read a review.
            detail = "back for changes" if review is TicketStatus.CHANGES_REQUESTED else ""
            Flash.success(request, outcome_message(REVIEWED[review], "ticket", 1, {}, detail))
        return self._back_to_list(request, form)

    async def _show_tickets(
        self,
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
        async with self.sessions() as session:
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
        response = await self._confirm(
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


def _refusal(exc: ValidationError) -> str:
    """What was wrong with a form's text (a note, a comment), worded for a person."""
    return "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())


def _changes_note(typed: str) -> str:
    """A request for changes' note as `ChangesRequest` takes it; ValueError saying what
    is wrong with it, worded for the confirmation form."""
    if not typed.strip():
        raise ValueError(BLANK_CHANGES_NOTE)
    try:
        return ChangesRequest(note=typed).note
    except ValidationError as exc:
        raise ValueError(_refusal(exc)) from exc


def ticket_export_columns(company: str) -> list[ExportColumn]:
    """The CSV export (ConsoleView.export_data): the listed tickets, one row each. The
    amount in the company's currency, which an accountant adds up, then the amount as
    spent, its currency and the rate it was converted at (as recorded), with each
    currency's own decimals."""
    return [
        ExportColumn("Ticket", lambda ticket: ticket.id),
        ExportColumn("Employee", lambda ticket: ticket.owner.username),
        ExportColumn("Email", lambda ticket: ticket.owner.email),
        ExportColumn("Spent on", lambda ticket: ticket.spent_on),
        ExportColumn(f"Amount ({company})", lambda t: plain_money(t.company_amount, company)),
        ExportColumn("Original amount", lambda ticket: plain_money(ticket.amount, ticket.currency)),
        ExportColumn("Original currency", lambda ticket: ticket.currency),
        ExportColumn("Exchange rate", lambda ticket: _recorded_rate(ticket.exchange_rate)),
        ExportColumn("Rate date", lambda ticket: ticket.rate_date),
        ExportColumn("Status", lambda ticket: status_label(ticket.status)),
        ExportColumn("Category", lambda ticket: ticket.category.name),
        ExportColumn("Flags", _flag_names),
        ExportColumn("Description", lambda ticket: ticket.description),
        ExportColumn("Links", lambda ticket: ticket.links),
        ExportColumn("Filed at", lambda ticket: ticket.created_at),
        ExportColumn("Decided at", lambda ticket: ticket.decided_at),
        ExportColumn("Decided by", lambda ticket: ticket.decided_by and ticket.decided_by.username),
        ExportColumn("Note", lambda ticket: ticket.decision_note),
    ]


def _recorded_rate(value: Decimal) -> str:
    # Every decimal as recorded, never in exponent form (1E-7), no grouping.
    return format(value, "f")
