"""Everything the console takes from SQLAdmin beyond its public API, in one place.

SQLAdmin is pinned exactly (`sqladmin==0.32.0` in pyproject.toml, `PINNED_VERSION`
here) because the console leans on the parts below, which any release may change.
The rest of the console uses them only through this module. tests/admin/test_compat.py
checks each against the installed SQLAdmin; after an upgrade, its failures name what to
re-check here.

Private names, and why:
- `sqladmin._types._UNSET` (`NO_DEFAULT`): a filter's "no default value", which
  SQLAdmin's list tests for by identity; our lookup filters declare it.
- `sqladmin._types.SimpleColumnFilter`, `OperationColumnFilter` (`ColumnFilter`): the
  two filter protocols `get_filters` returns and `CompatView.listed` applies.
- `ModelView._list_relations`: the relationships a list loads with its rows.
- `ModelView._run_query(statement)`: the rows as mapped instances
  (`scalars().unique().all()`) on the view's session maker: a list's page, and through
  `ModelView.count` the first row of the count.
- `ModelView._list_prop_names`, `_column_labels`: the audit log draws its own table
  (`list_column_names`, `column_label`).
- `ModelView._can_delete_any`, `_visible_custom_actions`: what SQLAdmin's list.html
  tests to draw its Actions menu and checkboxes (`acts_on_selection`).
- `ModelView._url_for_action(request, slug)`: the action buttons on a record's page
  (`action_url`).

Internal behaviour, and why:
- `ModelView.list` builds one statement (`list_query`, the list relations loaded,
  the filters, `sort_query`, `search_query`), counts it as
  `select(func.count()).select_from(statement.subquery())` through `ModelView.count`
  and pages it. `CompatView.list` does the same in two steps, so that the CSV export
  streams the very statement the list pages (`CompatView.listed`).
- The export route calls `get_model_objects(request, limit)`, then
  `export_data(rows, export_type=..., request=...)`: the console's export reads no
  rows in the first and streams them in the second.
- Route names on `Admin.admin` (the Starlette app SQLAdmin mounts): `logout`,
  `action-<identity>-<slug>` for `@action` (GET only: `accept_posts`), and
  `view-<identity>-<function>` for `@expose`, which the console's templates link to.
- `Admin.admin.exception_handlers[HTTPException]`: SQLAdmin's error page, which
  `error_page` hands to the console's domain errors.
- SQLAdmin's templates build every link with the `url_for` global its
  `Jinja2Templates` installs: `links_by_path` replaces that global.
- `Admin.add_view` finds a view's `@action`s among its methods and lists them by the
  first line of each function's code, last first (`add_actions` places the generated
  ones before those a class body defines).
- `Admin` adds its authentication backend's `middlewares` to its app, and only those
  (`SessionlessAuthentication`: the app's own session middleware serves the console).
- The "__all" lookup value (`ALL_VALUES`): the "All" choice of SQLAdmin's lookup filter.
- Templates. Ours replace `sqladmin/login.html` (what `Admin.login` renders) and
  `sqladmin/flash.html` (what layout.html includes); they extend `sqladmin/list.html`
  (blocks `model_menu_bar`, `head_tail`, `content`; the ids `select-all` and
  `dropdownMenuButton` their styles hide), `sqladmin/details.html` (blocks `content`,
  `content_header`, `details_table`) and `sqladmin/layout.html`; the audit log's list
  draws list.html's footer (`Pagination`'s `page_controls`, `previous_page`,
  `next_page`, `has_previous`, `has_next`, `resize`); `ServiceLookup` filters use
  SQLAdmin's `LOOKUP_FILTER_TEMPLATE`.
"""

import builtins
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias, cast

from sqladmin import Admin, ModelView, action
from sqladmin._types import _UNSET, OperationColumnFilter, SimpleColumnFilter
from sqladmin.authentication import AuthenticationBackend
from sqladmin.pagination import Pagination
from sqladmin.templating import Jinja2Templates
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contoso.hosts import path_for

# The SQLAdmin release this module was checked against: pyproject.toml pins it.
PINNED_VERSION = "0.32.0"

# SQLAdmin's hooks take and return statements of any columns.
AnySelect = Select[*tuple[Any, ...]]
ColumnFilter: TypeAlias = SimpleColumnFilter | OperationColumnFilter
# A filter with no default value: SQLAdmin's list skips it when its parameter is absent.
NO_DEFAULT: Any = _UNSET
# The value of a lookup filter's "All" choice: no filter.
ALL_VALUES = "__all"
LOOKUP_FILTER_TEMPLATE = "sqladmin/filters/lookup_filter.html"

ErrorPage = Callable[[Request, Exception], Awaitable[Response]]


class CompatView(ModelView):
    """A ModelView that reaches SQLAdmin's private members only through these methods."""

    def list_column_names(self) -> builtins.list[str]:
        """The list's columns, in order (`column_list`)."""
        return list(self._list_prop_names)

    def column_label(self, name: str) -> str:
        """A column's heading, as SQLAdmin's own list shows it."""
        return str(self._column_labels.get(name, name))

    def acts_on_selection(self, request: Request) -> bool:
        """Whether SQLAdmin's list offers anything to do with selected rows (an Actions
        menu, checkboxes)."""
        return bool(self._can_delete_any(request) or self._visible_custom_actions(request))

    def action_url(self, request: Request, slug: str) -> str:
        """The URL of this view's `@action` named `slug`."""
        return str(self._url_for_action(request, slug))

    async def listed(self, request: Request) -> AnySelect:
        """Every row the list shows under the request's search, filters and sort, in its
        order, unpaged: the statement SQLAdmin's `ModelView.list` builds inline."""
        search = request.query_params.get("search", "")
        statement = self.list_query(request)
        for relation in self._list_relations:
            statement = statement.options(selectinload(relation))
        for column_filter in self.get_filters():
            value = request.query_params.get(column_filter.parameter_name)
            if not value and getattr(column_filter, "default_value", _UNSET) is _UNSET:
                continue
            if getattr(column_filter, "has_operator", False):
                operation = request.query_params.get(f"{column_filter.parameter_name}_op")
                if operation:
                    statement = await cast(OperationColumnFilter, column_filter).get_filtered_query(
                        statement, operation, value, self.model
                    )
            else:
                statement = await cast(SimpleColumnFilter, column_filter).get_filtered_query(
                    statement, value, self.model
                )
        statement = self.sort_query(statement, request)
        return self.search_query(statement, search) if search else statement

    async def list(self, request: Request) -> Pagination:
        """SQLAdmin's paging and count, over `listed`."""
        page = self.validate_page_number(request.query_params.get("page"), 1)
        page_size = self.validate_page_number(request.query_params.get("pageSize"), self.page_size)
        page_size = min(page_size, max(self.page_size_options))
        if page_size < 1:
            raise HTTPException(400, "Invalid page or pageSize parameter")
        statement = await self.listed(request)
        count = await self.count(request, select(func.count()).select_from(statement.subquery()))
        # Clamped before the offset is built: a page past the end is the last page.
        page = min(max(page, 1), Pagination.max_page(count, page_size))
        rows = await self._run_query(statement.limit(page_size).offset((page - 1) * page_size))
        return Pagination(rows=rows, page=page, page_size=page_size, count=count)


# Past any line of a real source file: the first line given to generated actions.
_GENERATED_LINES = 1_000_000
ActionHandler = Callable[[Any, Request], Awaitable[Response]]


def add_actions(view: type[ModelView], actions: Mapping[str, tuple[str, ActionHandler]]) -> None:
    """Give `view` an `@action` per entry of `actions` (slug: (label, handler), the
    handler called with the view and the request), listed in that order and before the
    actions its class body defines. Call it before the view is added to the Admin."""
    for position, (slug, (label, handler)) in enumerate(actions.items()):

        async def act(self: ModelView, request: Request, handler: ActionHandler = handler) -> Any:
            return await handler(self, request)

        # SQLAdmin orders actions by this line, last first; generated ones share one.
        act.__code__ = act.__code__.replace(co_firstlineno=_GENERATED_LINES - position)
        act.__name__ = act.__qualname__ = slug.replace("-", "_")
        setattr(view, act.__name__, action(slug, label, add_in_detail=False, add_in_list=True)(act))


class SessionlessAuthentication(AuthenticationBackend):
    """SQLAdmin's login hooks without its cookie session: a subclass calls this
    `__init__`, not SQLAdmin's, and the app's session middleware serves the console."""

    def __init__(self) -> None:
        self.middlewares = []


def error_page(console: Admin) -> ErrorPage:
    """SQLAdmin's handler that shows an HTTPException as its error page."""
    return cast(ErrorPage, console.admin.exception_handlers[HTTPException])


def accept_posts(console: Admin) -> None:
    """Let actions and logout take the POST their confirmation page sends.

    SQLAdmin routes them GET-only and would do the work on a GET that any
    cross-site link can trigger; ours only confirm on GET and act on POST.
    """
    for route in console.admin.router.routes:
        if isinstance(route, Route) and (
            route.name == "logout" or (route.name or "").startswith("action-")
        ):
            route.methods = {"GET", "HEAD", "POST"}


def links_by_path(templates: Jinja2Templates) -> None:
    """Links and files by path in every console page, SQLAdmin's own included: its
    `url_for` names the request's Host."""
    templates.env.globals["url_for"] = path_for
