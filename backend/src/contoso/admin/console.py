"""The employer console: SQLAdmin mounted at /admin on the app's engine and services."""

from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqladmin import Admin
from sqladmin.authentication import login_required
from sqladmin.flash import Flash
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from contoso.admin.audit import AuditLogAdmin
from contoso.admin.auth import EmployerAuth
from contoso.admin.categories import CategoryAdmin
from contoso.admin.chart import monthly_spend_svg
from contoso.admin.compat import accept_posts, error_page, links_by_path
from contoso.admin.emails import EmailAdmin
from contoso.admin.employees import EmployeeAdmin
from contoso.admin.exchange_rates import ExchangeRateAdmin
from contoso.admin.invitations import InvitationAdmin
from contoso.admin.money import ticket_amount
from contoso.admin.passwords import PasswordSettings
from contoso.admin.payments import PaymentAdmin
from contoso.admin.tickets import TicketAdmin
from contoso.admin.views import ConsoleView
from contoso.auth import service as auth
from contoso.auth.security import Security
from contoso.browser.csrf import CSRF_FIELD, csrf_token
from contoso.browser.forms import EMAIL_NOTIFICATIONS, UNREADABLE_FORM, read_form
from contoso.dashboard import service as dashboard_service
from contoso.database import Database
from contoso.errors import ContosoError
from contoso.formatting import count, moment, money, month
from contoso.tickets.display import flag_badges, status_badge

TEMPLATES = Path(__file__).parent / "templates"
# In the menu's order.
CONSOLE_VIEWS: tuple[type[ConsoleView], ...] = (
    TicketAdmin,
    PaymentAdmin,
    EmployeeAdmin,
    CategoryAdmin,
    ExchangeRateAdmin,
    AuditLogAdmin,
    InvitationAdmin,
    EmailAdmin,
)


class Console(Admin):
    """SQLAdmin with our dashboard as its index page."""

    # The currency the dashboard's amounts are in (COMPANY_CURRENCY), and how often the
    # employers' digest may go (DIGEST_HOURS), set by `mount_console`.
    company_currency: str = ""
    digest_hours: int = 0

    @login_required
    async def index(self, request: Request) -> Response:
        async with self.session_maker() as session:
            figures = await dashboard_service.dashboard(session, request.state.employer)
        return await self.templates.TemplateResponse(
            request,
            "dashboard.html",
            {
                "figures": figures,
                "chart": monthly_spend_svg(figures.monthly, self.company_currency),
                "title": "Dashboard",
                "count": count,
                "month_label": month,
                "employer": request.state.employer,
                "digest_hours": self.digest_hours,
                "email_field": EMAIL_NOTIFICATIONS,
            },
        )

    @login_required
    async def email_setting(self, request: Request) -> Response:
        """The dashboard's switch for the employer's own digest emails (the employees'
        switch is on their page; both go through the same service)."""
        form = await read_form(request)
        chosen = form.get(EMAIL_NOTIFICATIONS)
        if chosen not in ("on", "off"):
            raise HTTPException(400, UNREADABLE_FORM)
        assert isinstance(self.session_maker, async_sessionmaker)  # mount_console's
        async with self.session_maker.begin() as session:
            await auth.set_email_notifications(session, request.state.employer, chosen == "on")
        Flash.success(
            request,
            (
                "You will get the digest of tickets waiting for a decision."
                if chosen == "on"
                else "You will get no more digests of tickets waiting for a decision."
            ),
        )
        return RedirectResponse(request.url_for("admin:index"), status_code=303)


def mount_console(
    app: FastAPI,
    database: Database,
    security: Security,
    zone: ZoneInfo,
    company_currency: str,
    digest_hours: int,
) -> Console:
    """The console on `app`: times shown in `zone`, and money in `company_currency` (the
    company's, which limits, totals and payments are in) with originals beside it."""
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
    console.company_currency = company_currency
    console.digest_hours = digest_hours
    console.admin.add_route(
        "/settings/emails", console.email_setting, methods=["POST"], name="email-setting"
    )
    authentication.templates = console.templates
    links_by_path(console.templates)
    console.templates.env.globals["csrf_token"] = csrf_token
    console.templates.env.globals["csrf_field"] = CSRF_FIELD
    # The login page's options, as the pages' templates ask for them (the console is a
    # mounted app: its requests' `app` is SQLAdmin's, without the app's state).
    console.templates.env.globals["single_sign_on"] = lambda _request: security.sso
    console.templates.env.globals["sso_only"] = lambda _request: security.sso_only
    console.templates.env.globals |= {
        "money": money,
        "company_currency": company_currency,
        "company_money": partial(money, currency=company_currency),
        "ticket_amount": partial(ticket_amount, company=company_currency),
        "moment": moment,
        "flag_badges": flag_badges,
        "status_badge": status_badge,
    }
    _show_domain_errors(console)
    # The console's routes see its own app, not `app`: receipts are served from there.
    console.admin.state.receipt_storage = app.state.receipt_storage
    console.admin.state.invitation_codes = security.invitation_codes
    for view in CONSOLE_VIEWS:
        console.add_view(view.for_app(zone, company_currency))
    # Last in the menu, after the records: the employer's own account.
    console.add_view(PasswordSettings.for_app(sessionmaker, security))
    accept_posts(console)
    return console


def _show_domain_errors(console: Admin) -> None:
    """A domain error raised in a console route (a ticket hidden meanwhile, a payment
    that does not exist) is shown as SQLAdmin shows its own errors, with the status and
    headers its class declares. The console is an app of its own, so the main app's
    handlers (`errors.install_error_handlers`) never see its exceptions."""
    show_http_error = error_page(console)

    async def show_domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ContosoError)
        error = HTTPException(exc.status_code, exc.message, exc.response_headers())
        return await show_http_error(request, error)

    console.admin.add_exception_handler(ContosoError, show_domain_error)
