"""The console's payments: marking a selection of tickets paid (the tickets list's
action, its confirmation and its report), and the batches paid, read-only, each with
what every employee got and the bank's CSV file, all through the payment service."""

from dataclasses import dataclass
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from markupsafe import Markup
from pydantic import ValidationError
from sqladmin import expose
from sqladmin.flash import Flash
from sqlalchemy import false, select
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from contoso.admin.compat import AnySelect
from contoso.admin.views import (
    ConsoleView,
    contains,
    outcome_message,
    pk_of,
    selection,
    single_id,
)
from contoso.errors import ContosoError
from contoso.formatting import isolated, money
from contoso.models import Payment
from contoso.payments import service as payments_service
from contoso.payments.export import payment_csv
from contoso.payments.schemas import PaymentCreate, PaymentReport, PaymentSkipped
from contoso.tickets import service as tickets_service
from contoso.tickets.schemas import TicketRead

# The payment confirmation's bank or payment reference (blank: generated).
REFERENCE_FIELD = "reference"


def _reference(payment: Payment, _: str) -> Markup:
    # Relative to the list (/admin/payments/list): the payment's page.
    return Markup('<a class="reference" href="details/{0}">{1}</a>').format(
        payment.id, isolated(payment.reference)
    )


class PaymentAdmin(ConsoleView, model=Payment):
    url_identity = "payments"
    name = "Payment"
    name_plural = "Payments"
    icon = "fa-solid fa-money-check-dollar"
    can_export = False
    list_template = "payments_list.html"
    # Each employee's share and the bank's file, read by `get_payment`.
    details_template = "payment_details.html"

    column_list: ClassVar = [
        Payment.reference,
        Payment.created_at,
        Payment.created_by,
        Payment.tickets,
        Payment.total,
    ]
    column_labels: ClassVar = {
        Payment.reference: "Reference",
        Payment.created_at: "When",
        Payment.created_by: "By",
        Payment.tickets: "Tickets",
        Payment.total: "Total",
    }
    column_formatters: ClassVar = {
        Payment.reference: _reference,
        Payment.created_by: lambda payment, _: payment.created_by.username,
    }
    column_searchable_list: ClassVar = [Payment.reference]
    column_sortable_list: ClassVar = [Payment.created_at, Payment.tickets, Payment.total]
    column_default_sort: ClassVar = [(Payment.created_at, True), (Payment.id, True)]
    # Shown as text: employers have no page of their own in the console.
    non_link_related_fields: ClassVar = [Payment.created_by]

    @classmethod
    def for_app(cls, zone: ZoneInfo, company_currency: str) -> type[ConsoleView]:
        view = super().for_app(zone, company_currency)
        # Totals are in the company's currency, which the row does not name.
        view.column_formatters = cls.column_formatters | {
            Payment.total: lambda payment, _: Markup('<span class="amount">{}</span>').format(
                money(payment.total, company_currency)
            )
        }
        return view

    def search_query(self, stmt: AnySelect, term: str) -> AnySelect:
        return stmt.where(Payment.reference.ilike(contains(term)))

    def search_placeholder(self) -> str:
        return "reference"

    def details_query(self, request: Request) -> AnySelect:
        payment_id = pk_of(request)
        return select(Payment).where(Payment.id == payment_id if payment_id else false())

    async def details_context(self, request: Request) -> dict[str, Any]:
        payment_id = pk_of(request)
        if payment_id is None:  # SQLAdmin answers 404 before rendering
            return {}
        async with self.sessions() as session:
            payment = await payments_service.get_payment(
                session, request.state.employer, payment_id
            )
        return {"payment": payment}

    @expose("/{payment_id}/export")
    async def payment_file(self, request: Request) -> Response:
        """The batch's CSV file for the bank or the accounts, as the API gives it
        (`GET /api/payments/{id}/export`)."""
        payment_id = single_id(request.path_params["payment_id"])
        if payment_id is None:
            raise HTTPException(404, "There is no such payment.")
        async with self.sessions() as session:
            payment = await payments_service.get_payment(
                session, request.state.employer, payment_id
            )
        return payment_csv(payment, self.zone)


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


async def pay_selection(view: ConsoleView, request: Request) -> Response:
    """The tickets list's Mark paid (`TicketAdmin.pay`): the confirmation of what each
    employee is paid, then the payment through the payment service and its report."""
    form, ids = await selection(request)
    if ids is None:
        Flash.warning(request, "Select at least one ticket to mark paid first.")
        return view.back_to_list(request, form)
    if form is None:
        return await _show_payment(view, request, ids)
    typed = str(form.get(REFERENCE_FIELD, ""))
    try:
        reference = PaymentCreate(ticket_ids=ids, reference=typed).reference
    except ValidationError as exc:
        error = "; ".join(e["msg"] for e in exc.errors())
        return await _show_payment(view, request, ids, form, typed, error, 400)
    try:
        async with view.sessions.begin() as session:
            report = await payments_service.pay_tickets(
                session, request.state.employer, ids, reference
            )
    except ContosoError as exc:  # nothing payable, or the reference taken: nothing paid
        return await _payment_refused(view, request, form, ids, typed, exc)
    Flash.success(request, _paid_message(report))
    return view.back_to_list(request, form)


async def _payment_refused(
    view: ConsoleView,
    request: Request,
    form: FormData,
    ids: list[int],
    typed: str,
    error: ContosoError,
) -> Response:
    """Nothing paid. While some of the selection can still be paid (the reference
    was the problem) the form comes back to fix it; otherwise the list says why, as
    a decision that decides nothing does."""
    async with view.sessions() as session:
        preview = await payments_service.preview_payment(session, request.state.employer, ids)
    if preview.employees:
        return await _show_payment(
            view, request, ids, form, typed, error.message, error.status_code
        )
    Flash.warning(request, error.message)
    return view.back_to_list(request, form)


async def _show_payment(
    view: ConsoleView,
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
    async with view.sessions() as session:
        preview = await payments_service.preview_payment(session, employer, ids)
        left_out = [skip.id for skip in preview.skipped]
        shown = await tickets_service.tickets_by_ids(session, employer, left_out)
    by_id = {ticket.id: ticket for ticket in shown}
    return await view.templates.TemplateResponse(
        request,
        "confirm_payment.html",
        {
            "model_view": view,
            "title": "Mark paid",
            "selected": len(ids),
            "preview": preview,
            "skipped": [SkippedTicket(skip, by_id.get(skip.id)) for skip in preview.skipped],
            "pks": ",".join(str(i) for i in ids),
            "back": view.list_to_return_to(request, form),
            "reference": reference,
            "reference_field": REFERENCE_FIELD,
            "error": error,
        },
        status_code=status,
    )
