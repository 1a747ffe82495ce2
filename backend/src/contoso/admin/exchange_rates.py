"""The console's exchange rates: how many units of the company's currency one unit of
another buys, from a day on. Recorded through the currency service, and never changed
or deleted there or here: tickets were converted with them."""

from collections.abc import Callable
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from markupsafe import Markup
from pydantic import ValidationError
from sqladmin import expose
from sqladmin.flash import Flash
from sqlalchemy import Select, or_
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from contoso.admin.compat import ALL_VALUES, AnySelect
from contoso.admin.money import currency_name
from contoso.admin.views import ConsoleView, ServiceLookup, contains
from contoso.browser.forms import field_errors, read_form
from contoso.currencies import service as currencies_service
from contoso.currencies.schemas import ExchangeRateCreate
from contoso.currency_codes import CURRENCIES_IN_USE, is_currency, name
from contoso.errors import ContosoError
from contoso.formatting import isolated, rate_of
from contoso.models import ExchangeRate

FORM = "exchange_rate_form.html"
# The form's fields, in its order.
FIELDS = ("currency", "rate", "valid_from")


class CurrencyFilter(ServiceLookup):
    """Rates of one currency; the choices are the currencies that have rates, read
    through the currency service."""

    title = "Currency"
    parameter_name = "currency"

    async def lookups(
        self, request: Request, model: Any, run_query: Callable[[Select[Any]], Any]
    ) -> list[tuple[str, str]]:
        async with self.sessions() as session:
            recorded = await currencies_service.currencies_with_rates(session)
        return [(ALL_VALUES, "All")] + [(code, f"{code} · {name(code)}") for code in recorded]

    async def get_filtered_query(self, query: AnySelect, value: Any, model: Any) -> AnySelect:
        if value in (None, "", ALL_VALUES):
            return query
        if not isinstance(value, str) or not is_currency(value):
            raise HTTPException(400, "There is no such currency to filter by; choose one listed.")
        return query.where(ExchangeRate.currency == value)


def _currency(rate: ExchangeRate, _: str) -> Markup:
    return currency_name(rate.currency)


def _recorded_by(rate: ExchangeRate, _: str) -> Markup:
    if rate.created_by is None:
        return Markup('<span class="text-muted recorded-by">Imported from a rates file</span>')
    return isolated(rate.created_by.username)


class ExchangeRateAdmin(ConsoleView, model=ExchangeRate):
    url_identity = "exchange-rates"
    name = "Exchange rate"
    name_plural = "Exchange rates"
    icon = "fa-solid fa-money-bill-transfer"
    can_view_details = False
    can_export = False
    # Its "Record a rate" button, and why no rate can be changed.
    list_template = "exchange_rates_list.html"

    column_list: ClassVar = [
        ExchangeRate.currency,
        ExchangeRate.rate,
        ExchangeRate.valid_from,
        ExchangeRate.created_by,
        ExchangeRate.created_at,
    ]
    column_labels: ClassVar = {
        ExchangeRate.currency: "Currency",
        ExchangeRate.rate: "Rate",
        ExchangeRate.valid_from: "Valid from",
        ExchangeRate.created_by: "Recorded by",
        ExchangeRate.created_at: "Recorded at",
    }
    column_formatters: ClassVar = {
        ExchangeRate.currency: _currency,
        ExchangeRate.created_by: _recorded_by,
    }
    column_searchable_list: ClassVar = [ExchangeRate.currency]
    column_sortable_list: ClassVar = [
        ExchangeRate.currency,
        ExchangeRate.valid_from,
        ExchangeRate.created_at,
    ]
    # As the currency service lists them: the latest first.
    column_default_sort: ClassVar = [
        (ExchangeRate.valid_from, True),
        (ExchangeRate.currency, False),
        (ExchangeRate.id, False),
    ]
    # Shown as text: employers have no page of their own in the console.
    non_link_related_fields: ClassVar = [ExchangeRate.created_by]

    def get_filters(self) -> list[Any]:
        return [CurrencyFilter(self.sessions)]

    @classmethod
    def for_app(cls, zone: ZoneInfo, company_currency: str) -> type[ConsoleView]:
        view = super().for_app(zone, company_currency)
        # `1 EUR = $1.1512`: the rate as recorded, in the company's currency.
        view.column_formatters = cls.column_formatters | {
            ExchangeRate.rate: lambda rate, _: Markup('<span class="rate">{}</span>').format(
                rate_of(rate.rate, rate.currency, company_currency)
            )
        }
        return view

    def search_query(self, stmt: AnySelect, term: str) -> AnySelect:
        # By code ("eur") or name ("yen"), as the list shows them.
        wanted = term.strip().casefold()
        named = sorted(code for code in CURRENCIES_IN_USE if wanted in name(code).casefold())
        return stmt.where(
            or_(
                ExchangeRate.currency.ilike(contains(term.strip())),
                ExchangeRate.currency.in_(named),
            )
        )

    def search_placeholder(self) -> str:
        return "currency code or name"

    @expose("/new", methods=["GET", "POST"])
    async def new(self, request: Request) -> Response:
        """A new rate: its form, then the list with the rate in it. The same rate again
        changes nothing; another for the same currency and day is refused (409)."""
        context: dict[str, Any] = {
            "title": "Record an exchange rate",
            "values": {},
            "currencies": self._currency_choices(),
        }
        if request.method == "GET":
            return await self.form_page(request, FORM, context)
        form = await read_form(request)
        values = {field: str(form.get(field, "")).strip() for field in FIELDS}
        context["values"] = values
        try:
            data = ExchangeRateCreate.model_validate(values)
        except ValidationError as exc:
            return await self.form_page(request, FORM, context | {"errors": field_errors(exc)}, 400)
        try:
            async with self.sessions.begin() as session:
                recorded = await currencies_service.add_rate(session, request.state.employer, data)
        except ContosoError as exc:
            return await self.form_refused(request, FORM, context, exc)
        shown = f"{rate_of(recorded.rate.rate, data.currency, self.company_currency)} from "
        shown += recorded.rate.valid_from.isoformat()
        if recorded.created:
            Flash.success(request, f"Recorded {shown}.")
        else:
            Flash.info(request, f"{shown} was already recorded; nothing changed.")
        return self.to_list(request)

    def _currency_choices(self) -> list[tuple[str, str]]:
        """Every currency in use but the company's (always 1), by code, with its name."""
        return [
            (code, name(code))
            for code in sorted(CURRENCIES_IN_USE)
            if code != self.company_currency
        ]
