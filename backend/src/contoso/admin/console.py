"""The employer console: SQLAdmin mounted at /admin on the app's engine and services."""

from pathlib import Path

from fastapi import FastAPI
from sqladmin import Admin
from sqladmin.authentication import login_required
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contoso.admin.auth import EmployerAuth
from contoso.admin.chart import monthly_spend_svg
from contoso.admin.invitations import InvitationAdmin
from contoso.admin.views import CONSOLE_VIEWS, ConsoleView
from contoso.auth.security import Security
from contoso.dashboard import service as dashboard_service
from contoso.database import Database
from contoso.middleware import CSRF_FIELD, csrf_token

TEMPLATES = Path(__file__).parent / "templates"


class Console(Admin):
    """SQLAdmin with our dashboard as its index page."""

    @login_required
    async def index(self, request: Request) -> Response:
        async with self.session_maker() as session:
            figures = await dashboard_service.dashboard(session, request.state.employer)
        return await self.templates.TemplateResponse(
            request,
            "dashboard.html",
            {"figures": figures, "chart": monthly_spend_svg(figures.monthly), "title": "Dashboard"},
        )


def mount_console(app: FastAPI, database: Database, security: Security) -> Console:
    # A sessionmaker of its own: SQLAdmin reconfigures the one it is given.
    sessionmaker = async_sessionmaker(database.engine, expire_on_commit=False)
    authentication = EmployerAuth(sessionmaker, security)
    console = Console(
        app,
        session_maker=sessionmaker,
        title="Contoso Expenses",
        base_url="/admin",
        templates_dir=str(TEMPLATES),
        authentication_backend=authentication,
    )
    authentication.templates = console.templates
    console.templates.env.globals["csrf_token"] = csrf_token
    console.templates.env.globals["csrf_field"] = CSRF_FIELD
    views: tuple[type[ConsoleView], ...] = (*CONSOLE_VIEWS, InvitationAdmin)
    for view in views:
        # A subclass per app: SQLAdmin stores its admin and engine on the view
        # class, and two apps (tests make several) must not share them.
        console.add_view(type(view.__name__, (view,), {"identity": view.url_identity}))
    _accept_posts(console)
    return console


def _accept_posts(console: Admin) -> None:
    """Let actions and logout take the POST their confirmation page sends.

    SQLAdmin routes them GET-only and would do the work on a GET that any
    cross-site link can trigger; ours only confirm on GET and act on POST.
    """
    for route in console.admin.router.routes:
        if isinstance(route, Route) and (
            route.name == "logout" or (route.name or "").startswith("action-")
        ):
            route.methods = {"GET", "HEAD", "POST"}
