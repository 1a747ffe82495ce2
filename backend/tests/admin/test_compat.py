"""What the console takes from SQLAdmin beyond its public API (contoso/admin/compat.py),
checked against the installed SQLAdmin. After an upgrade, a failure here names the part
of compat.py to re-check before the pin moves."""

import hashlib
import inspect
import re
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
import pytest
import sqladmin
from fastapi import FastAPI
from jinja2 import nodes
from sqladmin import Admin, ModelView
from sqladmin import _types as sqladmin_types
from sqladmin.authentication import AuthenticationBackend
from sqladmin.filters import StaticValuesFilter
from sqladmin.pagination import Pagination
from sqladmin.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route

from contoso.admin import compat
from contoso.admin.audit import AuditLogAdmin
from contoso.admin.compat import (
    ALL_VALUES,
    LOOKUP_FILTER_TEMPLATE,
    NO_DEFAULT,
    PINNED_VERSION,
    CompatView,
    SessionlessAuthentication,
    accept_posts,
    error_page,
)
from contoso.admin.console import CONSOLE_VIEWS, Console, mount_console
from contoso.admin.emails import EmailAdmin
from contoso.admin.exchange_rates import ExchangeRateAdmin
from contoso.admin.ticket_reviews import REVIEWS
from contoso.admin.tickets import TicketAdmin
from contoso.admin.views import ConsoleView
from contoso.models import Event, Ticket

BACKEND = Path(__file__).resolve().parents[2]
SQLADMIN_TEMPLATES = Path(sqladmin.__file__).parent / "templates"
RECHECK = "re-check contoso/admin/compat.py"

# The methods the console re-implements or hooks into, as the pinned release writes
# them. A change to one is a change the console must follow: re-read it, adapt
# compat.py, then record the new fingerprint here.
FINGERPRINTS = {
    "ModelView.list": "e45891d49fe4711d",
    "ModelView.count": "d59abb0a806a3fc9",
    "ModelView._run_query": "4721be44277d0c3d",
    "Admin.export": "1e2c74e17c83806a",
    "Admin.login": "2ab7fe7a1be0fe35",
}
SOURCES = {
    "ModelView.list": ModelView.list,
    "ModelView.count": ModelView.count,
    "ModelView._run_query": ModelView._run_query,
    "Admin.export": Admin.export,
    "Admin.login": Admin.login,
}


def fingerprint(function: Any) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]


def fake_request(path: str = "/admin/tickets/list", **params: str) -> Request:
    """A request as a console view's hooks read it: its path and query string."""
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": urlencode(params).encode(),
        "headers": [],
        "state": {},
    }
    return Request(scope)


def console_for(app: Any, settings: Any) -> Console:
    """A console of its own on the test database, as `create_app` mounts one."""
    host = FastAPI()
    host.state.receipt_storage = app.state.receipt_storage
    return mount_console(
        host,
        app.state.database,
        app.state.security,
        settings.zone,
        settings.company_currency,
        settings.digest_hours,
    )


def view_of(console: Console, view: type[ConsoleView]) -> ConsoleView:
    found = [v for v in console.views if isinstance(v, view)]
    assert found, view
    return found[0]


def blocks_of(name: str) -> set[str]:
    """The blocks a template of SQLAdmin's and the templates it extends define."""
    environment = jinja2.Environment(autoescape=True)
    source = (SQLADMIN_TEMPLATES / name).read_text()
    tree = environment.parse(source)
    found = {block.name for block in tree.find_all(nodes.Block)}
    extends = tree.find(nodes.Extends)
    if extends is not None and isinstance(extends.template, nodes.Const):
        found |= blocks_of(extends.template.value)
    return found


def test_the_installed_sqladmin_is_the_pinned_one():
    project = tomllib.loads((BACKEND / "pyproject.toml").read_text())["project"]
    pins = [d for d in project["dependencies"] if re.match(r"sqladmin\b", d)]
    lock = (BACKEND / "uv.lock").read_text()
    locked = re.search(r'name = "sqladmin"\nversion = "([^"]+)"', lock)

    assert pins == [
        f"sqladmin=={PINNED_VERSION}"
    ], f"pyproject.toml must pin SQLAdmin exactly at {PINNED_VERSION} (compat.PINNED_VERSION)"
    assert locked is not None and locked[1] == PINNED_VERSION, "uv.lock disagrees: run uv lock"
    assert metadata.version("sqladmin") == PINNED_VERSION, (
        f"SQLAdmin {metadata.version('sqladmin')} is installed, compat.py was checked "
        f"against {PINNED_VERSION}: {RECHECK} and this file, then move the pin"
    )


@pytest.mark.parametrize("name", sorted(FINGERPRINTS))
def test_the_methods_the_console_follows_are_as_pinned(name):
    assert fingerprint(SOURCES[name]) == FINGERPRINTS[name], (
        f"SQLAdmin's {name} changed: {RECHECK} (CompatView.listed and list build its "
        "statement and count; the export and login hooks assume its calls), then update "
        "FINGERPRINTS"
    )


def test_the_private_filter_names_are_there():
    assert sqladmin_types._UNSET is NO_DEFAULT, f"sqladmin._types._UNSET moved: {RECHECK}"
    for protocol in ("SimpleColumnFilter", "OperationColumnFilter"):
        assert hasattr(sqladmin_types, protocol), f"sqladmin._types.{protocol}: {RECHECK}"
    simple = inspect.signature(sqladmin_types.SimpleColumnFilter.get_filtered_query)
    operation = inspect.signature(sqladmin_types.OperationColumnFilter.get_filtered_query)
    assert list(simple.parameters) == ["self", "query", "value", "model"], RECHECK
    assert list(operation.parameters) == ["self", "query", "operation", "value", "model"], RECHECK
    lookups = inspect.signature(sqladmin_types.SimpleColumnFilter.lookups)
    assert list(lookups.parameters) == ["self", "request", "model", "run_query"], RECHECK
    # A filter that leaves the default unset is skipped when its parameter is absent.
    assert StaticValuesFilter(Ticket.status, []).default_value is NO_DEFAULT, RECHECK
    assert StaticValuesFilter.template == LOOKUP_FILTER_TEMPLATE, RECHECK
    assert (SQLADMIN_TEMPLATES / LOOKUP_FILTER_TEMPLATE).is_file(), RECHECK


async def test_the_lookup_filters_all_choice_is_all_values():
    choices = await StaticValuesFilter(Ticket.status, [("pending", "Pending")]).lookups(
        fake_request(), Ticket, lambda _: []
    )
    assert choices[0] == (ALL_VALUES, "All"), f"the 'All' choice changed: {RECHECK}"


def test_the_private_view_members_are_there(app, settings):
    console = console_for(app, settings)
    audit = view_of(console, AuditLogAdmin)

    relations = [(r.class_, r.key) for r in audit._list_relations]
    assert relations == [
        (Event, "actor"),
        (Event, "subject"),
    ], f"ModelView._list_relations: {RECHECK}"
    assert audit.list_column_names() == ["created_at", "kind", "actor", "subject", "note"]
    assert [audit.column_label(n) for n in audit.list_column_names()] == [
        "When",
        "What",
        "Who",
        "About",
        "Note",
    ], f"ModelView._column_labels: {RECHECK}"
    assert inspect.iscoroutinefunction(ModelView._run_query), RECHECK
    assert list(inspect.signature(ModelView._run_query).parameters) == ["self", "stmt"], RECHECK
    assert list(inspect.signature(ModelView._url_for_action).parameters) == [
        "self",
        "request",
        "action_name",
    ], f"ModelView._url_for_action: {RECHECK}"
    assert list(inspect.signature(ModelView.count).parameters) == ["self", "request", "stmt"]
    assert list(inspect.signature(ModelView.get_model_objects).parameters) == [
        "self",
        "request",
        "limit",
    ], f"the export's first hook: {RECHECK}"
    assert list(inspect.signature(ModelView.export_data).parameters) == [
        "self",
        "data",
        "export_type",
        "request",
    ], f"the export's second hook: {RECHECK}"


def test_a_list_acts_on_a_selection_exactly_when_sqladmins_list_says_so(app, settings):
    console = console_for(app, settings)
    list_page = (SQLADMIN_TEMPLATES / "sqladmin/list.html").read_text()
    # What list.html tests to draw its Actions menu and checkboxes.
    assert "model_view._can_delete_any(request)" in list_page, RECHECK
    assert "model_view._visible_custom_actions(request)" in list_page, RECHECK

    request = fake_request()
    assert view_of(console, TicketAdmin).acts_on_selection(request)
    assert not view_of(console, EmailAdmin).acts_on_selection(request)
    assert not view_of(console, ExchangeRateAdmin).acts_on_selection(request)


# Searches, filters, sorts and pages, alone and together.
LISTS = [
    {},
    {"status": "pending"},
    {"status": "approved"},
    {"status": ALL_VALUES},
    {"search": "dinner"},
    {"sortBy": "company_amount", "sort": "desc"},
    {"sortBy": "status", "pageSize": "25"},
    {"status": "pending", "sortBy": "spent_on", "search": "taxi"},
    {"page": "2", "pageSize": "25"},
    {"page": "99", "pageSize": "25"},
]


async def test_the_console_lists_what_sqladmins_own_list_would(app, settings, browser, factory):
    alice, bob, boss = await factory.employee(), await factory.employee(), await factory.employer()
    tickets = [await factory.ticket(alice, description="Team dinner") for _ in range(14)]
    tickets += [await factory.ticket(bob) for _ in range(14)]
    await browser.login_as(boss)
    await browser.confirm("tickets", "approve", [t["id"] for t in tickets[:20:3]])
    view = view_of(console_for(app, settings), TicketAdmin)

    for params in LISTS:
        ours = await view.list(fake_request(**params))
        sqladmins = await ModelView.list(view, fake_request(**params))

        assert ours.rows, f"{params}: the comparison needs rows"
        assert ours.count == sqladmins.count, f"{params}: the count's statement: {RECHECK}"
        assert (ours.page, ours.page_size) == (sqladmins.page, sqladmins.page_size), params
        assert [t.id for t in ours.rows] == [
            t.id for t in sqladmins.rows
        ], f"{params}: SQLAdmin's list builds another statement: {RECHECK} (CompatView.listed)"


def test_the_audit_logs_footer_finds_what_sqladmins_list_uses():
    pagination = Pagination(rows=[], page=1, page_size=25, count=0)
    for member in ("page_controls", "previous_page", "next_page", "has_previous", "has_next"):
        assert hasattr(Pagination, member) or hasattr(
            pagination, member
        ), f"Pagination.{member} (audit_list.html): {RECHECK}"
    assert pagination.resize(50).page_size == 50, f"Pagination.resize: {RECHECK}"
    assert Pagination.max_page(51, 25) == 3, f"Pagination.max_page: {RECHECK}"


@pytest.mark.parametrize(
    ("template", "blocks"),
    [
        ("sqladmin/list.html", {"content", "model_menu_bar", "head_tail"}),
        ("sqladmin/details.html", {"content", "content_header", "details_table", "head_tail"}),
        ("sqladmin/layout.html", {"content", "content_header", "head_tail"}),
        ("sqladmin/base.html", {"body"}),
    ],
)
def test_the_blocks_our_templates_fill_are_sqladmins(template, blocks):
    # Jinja drops a child's block its parent no longer has, without a word.
    missing = blocks - blocks_of(template)
    assert not missing, f"{template} has no block {sorted(missing)}: {RECHECK} and the templates"


def test_the_templates_we_replace_or_style_are_where_sqladmin_uses_them():
    layout = (SQLADMIN_TEMPLATES / "sqladmin/layout.html").read_text()
    list_page = (SQLADMIN_TEMPLATES / "sqladmin/list.html").read_text()
    assert "include 'sqladmin/flash.html'" in layout, f"our flash.html: {RECHECK}"
    assert '"sqladmin/login.html"' in inspect.getsource(Admin.login), f"our login: {RECHECK}"
    for element in ('id="select-all"', 'id="dropdownMenuButton"'):
        assert element in list_page, f"console_list.html's styles need {element}: {RECHECK}"


def test_sqladmins_templates_draw_links_with_the_url_for_we_replace(tmp_path):
    templates = Jinja2Templates(str(tmp_path))
    assert "url_for" in templates.env.globals, f"links_by_path: {RECHECK}"
    compat.links_by_path(templates)
    assert (
        templates.env.globals["url_for"]
        is not Jinja2Templates(str(tmp_path)).env.globals["url_for"]
    )
    list_page = (SQLADMIN_TEMPLATES / "sqladmin/list.html").read_text()
    assert "url_for('admin:" in list_page, f"links_by_path: {RECHECK}"


async def test_sqladmins_own_links_are_paths(browser, factory):
    await browser.login_as(await factory.employer())

    page = (await browser.client.get("/admin/tickets/list")).text

    # Drawn by SQLAdmin's layout.html, with the url_for links_by_path installs.
    assert 'href="/admin/statics/' in page
    assert "http://test/admin/statics" not in page


def test_the_route_names_we_rely_on_are_sqladmins(app, settings):
    bare = Admin(FastAPI(), session_maker=async_sessionmaker(app.state.database.engine))
    bare.add_view(TicketAdmin.for_app(settings.zone, settings.company_currency))
    routes = {r.name: r for r in bare.admin.router.routes if isinstance(r, Route)}

    assert "logout" in routes, f"the logout route's name: {RECHECK} (accept_posts)"
    assert routes["action-tickets-approve"].methods == {
        "GET",
        "HEAD",
    }, f"@action routes: {RECHECK} (accept_posts, action_url)"
    assert "view-tickets-receipt" in routes, f"@expose route names: {RECHECK} (templates)"
    accept_posts(bare)
    assert "POST" in routes["action-tickets-approve"].methods
    assert "POST" in routes["logout"].methods


def test_sqladmins_error_page_is_where_we_take_it(app):
    bare = Admin(FastAPI(), session_maker=async_sessionmaker(app.state.database.engine))
    assert HTTPException in bare.admin.exception_handlers, f"error_page: {RECHECK}"
    assert callable(error_page(bare))


def test_an_authentication_backend_brings_only_its_middlewares(app):
    # SQLAdmin's own __init__ sets nothing else a subclass that skips it would lack.
    assert set(vars(AuthenticationBackend("secret"))) == {"middlewares"}, RECHECK

    class Backend(SessionlessAuthentication):
        pass

    bare = Admin(
        FastAPI(),
        session_maker=async_sessionmaker(app.state.database.engine),
        authentication_backend=Backend(),
    )
    assert bare.admin.user_middleware == [], f"SessionlessAuthentication: {RECHECK}"


def test_our_views_shadow_no_sqladmin_member():
    """A private helper of ours named as one of SQLAdmin's would silently replace it."""
    ours = {CompatView, ConsoleView, *CONSOLE_VIEWS}
    # Its public hooks and options we override on purpose; its private names never.
    shadowed = {
        f"{view.__name__}.{name}"
        for view in ours
        for name in vars(view)
        if name.startswith("_") and not name.startswith("__") and hasattr(ModelView, name)
    }
    helpers = {"listed", "list_column_names", "column_label", "acts_on_selection", "action_url"}
    assert not shadowed, f"rename these: {sorted(shadowed)}"
    assert not {
        name for name in helpers if hasattr(ModelView, name)
    }, f"SQLAdmin now has members named as CompatView's helpers: {RECHECK}"


def test_generated_actions_are_listed_in_their_order_before_the_class_bodys(app, settings):
    bare = Admin(FastAPI(), session_maker=async_sessionmaker(app.state.database.engine))
    bare.add_view(TicketAdmin.for_app(settings.zone, settings.company_currency))
    view = bare.views[0]
    assert isinstance(view, ModelView)
    # The menu SQLAdmin draws: first line of each action's function, last first.
    reviews = [(t.slug, t.label) for t in REVIEWS]
    assert list(view._custom_actions_in_list.items()) == [
        *reviews,
        ("pay", "Mark paid"),
    ], f"the order of actions: {RECHECK} (add_actions)"
    assert reviews[:3] == [
        ("approve", "Approve"),
        ("deny", "Deny"),
        ("request-changes", "Request changes"),
    ]
