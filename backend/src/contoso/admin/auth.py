"""Console login: employers only, sessions server-side, the employer re-read on every click."""

from sqladmin.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from contoso.admin.compat import SessionlessAuthentication
from contoso.auth import service as auth
from contoso.auth.dependencies import client_address
from contoso.auth.schemas import normalise_email
from contoso.auth.security import Security
from contoso.browser.forms import read_form
from contoso.browser.login import (
    NEXT,
    after_login,
    end_user_session,
    login_address,
    session_user,
    start_user_session,
)
from contoso.errors import ContosoError, Forbidden


class EmployerAuth(SessionlessAuthentication):
    """SQLAdmin's login hooks, on the app-wide server-side session."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], security: Security) -> None:
        # No middleware of its own: the app installs one session middleware for
        # the console and the pages (SQLAdmin's default is a cookie session).
        super().__init__()
        self._sessionmaker = sessionmaker
        self._security = security
        # SQLAdmin's templates, set once the Admin that creates them exists.
        self.templates: Jinja2Templates | None = None

    async def login(self, request: Request) -> Response | bool:
        form = await read_form(request)
        email = normalise_email(str(form.get("username", "")))
        wanted = str(form.get(NEXT, ""))
        password = str(form.get("password", ""))
        try:
            async with self._sessionmaker.begin() as session:
                user = await auth.authenticate(
                    session, self._security, email, password, client_address(request)
                )
            if not user.is_employer:
                raise Forbidden(auth.EMPLOYERS_ONLY)
        except ContosoError as exc:
            return await self._refuse(request, exc, email, wanted)
        await start_user_session(request, user)
        # The console page that sent them to log in, if one did.
        return RedirectResponse(after_login(user, wanted), status_code=303)

    async def logout(self, request: Request) -> Response | bool:
        # SQLAdmin links to logout with a GET; a GET must not change state, so it
        # asks for confirmation and only the POST (CSRF-checked) logs out.
        if request.method == "GET":
            return await self._render(request, "logout.html", {})
        end_user_session(request)
        return RedirectResponse(request.url_for("admin:login"), status_code=303)

    async def authenticate(self, request: Request) -> Response | bool:
        async with self._sessionmaker() as session:
            user = await session_user(request, session)
        if user is None or not user.is_employer:
            # To the login form, which comes back here (SQLAdmin's own redirect would
            # land on the dashboard, whichever page an email's link named).
            login = str(request.url_for("admin:login"))
            return RedirectResponse(login_address(request, login), status_code=302)
        request.state.employer = user
        return True

    async def get_user_id(self, request: Request) -> int | None:
        employer = getattr(request.state, "employer", None)
        return employer.id if employer else None

    async def _refuse(
        self, request: Request, error: ContosoError, email: str, wanted: str
    ) -> Response:
        """The login form again, with the error's own status and headers (429 keeps
        its Retry-After), as every door answers it, still going back to `wanted`."""
        response = await self._render(
            request,
            "sqladmin/login.html",
            {"error": error.message, "email": email, NEXT: wanted},
            status_code=error.status_code,
        )
        response.headers.update(error.response_headers() or {})
        return response

    async def _render(
        self, request: Request, name: str, context: dict[str, object], status_code: int = 200
    ) -> Response:
        assert self.templates is not None, "set EmployerAuth.templates after creating Admin"
        return await self.templates.TemplateResponse(
            request, name, context, status_code=status_code
        )
