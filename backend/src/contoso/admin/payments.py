"""The console's payments: the batches paid, read-only, each with what every employee
got and the bank's CSV file, all read through the payment service."""

from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqladmin import expose
from sqlalchemy import false, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from contoso.admin.compat import AnySelect
from contoso.admin.views import ConsoleView, contains, pk_of, single_id
from contoso.formatting import isolated, money
from contoso.models import Payment
from contoso.payments import service as payments_service
from contoso.payments.export import payment_csv


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
