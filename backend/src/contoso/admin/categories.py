"""The console's categories: their policy, created and changed through the category
service; retired (deactivated), never deleted, since tickets keep theirs."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from markupsafe import Markup
from pydantic import ValidationError
from sqladmin import expose
from sqladmin.filters import BooleanFilter
from sqladmin.flash import Flash
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from contoso.admin.compat import AnySelect
from contoso.admin.views import ConsoleView, contains, pk_of
from contoso.browser.forms import field_errors, read_form
from contoso.categories import service as categories_service
from contoso.categories.schemas import CategoryCreate, CategoryRead, CategoryUpdate
from contoso.errors import ContosoError
from contoso.formatting import isolated, money
from contoso.models import Category

FORM = "category_form.html"
# The form's fields, in its order; a blank limit means no limit.
LIMIT_FIELDS = ("max_amount", "receipt_required_above")


def _name(category: Category, _: str) -> Markup:
    # Relative to the list (/admin/categories/list): the category's edit page.
    return Markup('<a class="category-name" href="{0}/edit">{1}</a>').format(
        category.id, isolated(category.name)
    )


def _description(category: Category, _: str) -> Markup:
    return Markup('<span class="category-description" dir="auto">{}</span>').format(
        category.description
    )


def _state(category: Category, _: str) -> Markup:
    if category.active:
        return Markup('<span class="badge bg-green-lt state">Active</span>')
    return Markup('<span class="badge bg-secondary-lt state">Inactive</span>')


_DEFAULT_BADGE = Markup('<span class="badge bg-blue-lt">Default</span>')


def _default(category: Category, _: str) -> Markup:
    return _DEFAULT_BADGE if category.is_default else Markup("")


def _limit(none: str, company: str) -> Callable[[Category, str], Markup]:
    """A limit's cell: the amount in `company` (the company's currency, which tickets
    are compared in), or `none` when there is no limit."""

    def formatted(category: Category, attribute: str) -> Markup:
        value: Decimal | None = getattr(category, attribute)
        if value is None:
            return Markup('<span class="text-muted">{}</span>').format(none)
        return Markup('<span class="amount">{}</span>').format(money(value, company))

    return formatted


class CategoryAdmin(ConsoleView, model=Category):
    url_identity = "categories"
    name = "Category"
    name_plural = "Categories"
    icon = "fa-solid fa-tags"
    can_view_details = False
    can_export = False
    # Its "New category" button; each name opens the category's form.
    list_template = "categories_list.html"

    column_list: ClassVar = [
        Category.name,
        Category.description,
        Category.active,
        Category.is_default,
        Category.max_amount,
        Category.receipt_required_above,
    ]
    column_labels: ClassVar = {
        Category.name: "Name",
        Category.description: "Description",
        Category.active: "State",
        Category.is_default: "Default",
        Category.max_amount: "Max amount",
        Category.receipt_required_above: "Receipt required above",
    }
    column_formatters: ClassVar = {
        Category.name: _name,
        Category.description: _description,
        Category.active: _state,
        Category.is_default: _default,
    }
    column_searchable_list: ClassVar = [Category.name]
    column_sortable_list: ClassVar = [Category.name]
    # As the category service lists them: the active ones first, by name.
    column_default_sort: ClassVar = [(Category.active, True), (Category.name, False)]
    column_filters: ClassVar = [BooleanFilter(Category.active, title="Active")]

    @classmethod
    def for_app(cls, zone: ZoneInfo, company_currency: str) -> type[ConsoleView]:
        view = super().for_app(zone, company_currency)
        view.column_formatters = cls.column_formatters | {
            Category.max_amount: _limit("No limit", company_currency),
            Category.receipt_required_above: _limit("Never", company_currency),
        }
        return view

    def search_query(self, stmt: AnySelect, term: str) -> AnySelect:
        return stmt.where(Category.name.ilike(contains(term)))

    def search_placeholder(self) -> str:
        return "name"

    @expose("/new", methods=["GET", "POST"])
    async def new(self, request: Request) -> Response:
        """A new category: its form, then the list with the category in it."""
        context: dict[str, Any] = {"model_view": self, "title": "New category", "values": {}}
        if request.method == "GET":
            return await self._page(request, context)
        form = await read_form(request)
        values = _submitted(form, with_active=False)
        context["values"] = values
        try:
            data = CategoryCreate.model_validate(_as_schema_input(values))
        except ValidationError as exc:
            return await self._page(request, context | {"errors": field_errors(exc)}, 400)
        try:
            async with self.sessions.begin() as session:
                created = await categories_service.create_category(
                    session, request.state.employer, data
                )
        except ContosoError as exc:
            return await self.form_refused(request, FORM, context, exc)
        Flash.success(request, f"Category “{created.name}” created.")
        return self.to_list(request)

    @expose("/{pk}/edit", methods=["GET", "POST"])
    async def edit_category(self, request: Request) -> Response:
        """A category's form: its name, description and limits, and whether new tickets
        may be filed under it (deactivated, it stays on the tickets that have it)."""
        category_id = _category_id(request)
        category = await self._category(request, category_id)
        context: dict[str, Any] = {
            "model_view": self,
            "title": f"Edit category “{category.name}”",
            "category": category,
            "values": _current(category),
        }
        if request.method == "GET":
            return await self._page(request, context)
        form = await read_form(request)
        values = _submitted(form, with_active=True)
        context["values"] = values
        try:
            data = CategoryUpdate.model_validate(_as_schema_input(values))
        except ValidationError as exc:
            return await self._page(request, context | {"errors": field_errors(exc)}, 400)
        try:
            async with self.sessions.begin() as session:
                saved = await categories_service.update_category(
                    session, request.state.employer, category_id, data
                )
        except ContosoError as exc:
            return await self.form_refused(request, FORM, context, exc)
        Flash.success(request, f"Category “{saved.name}” saved.")
        return self.to_list(request)

    async def _category(self, request: Request, category_id: int) -> CategoryRead:
        async with self.sessions() as session:
            return await categories_service.get_category(
                session, request.state.employer, category_id
            )

    async def _page(
        self, request: Request, context: dict[str, Any], status_code: int = 200
    ) -> Response:
        return await self.form_page(request, FORM, context, status_code)


def _category_id(request: Request) -> int:
    category_id = pk_of(request)
    if category_id is None:
        raise HTTPException(404, "There is no such category.")
    return category_id


def _submitted(form: FormData, *, with_active: bool) -> dict[str, Any]:
    """The form's fields as typed (shown again if refused); `active` is its checkbox."""
    values: dict[str, Any] = {
        name: str(form.get(name, "")) for name in ("name", "description", *LIMIT_FIELDS)
    }
    if with_active:
        values["active"] = form.get("active") == "on"
    return values


def _as_schema_input(values: dict[str, Any]) -> dict[str, Any]:
    # A blank limit is no limit (null); anything else is read as the API reads it.
    return values | {name: values[name].strip() or None for name in LIMIT_FIELDS}


def _current(category: CategoryRead) -> dict[str, Any]:
    """The form's starting values: limits as plain decimals, which it reads back."""
    return {
        "name": category.name,
        "description": category.description,
        "active": category.active,
        **{
            name: "" if getattr(category, name) is None else str(getattr(category, name))
            for name in LIMIT_FIELDS
        },
    }
