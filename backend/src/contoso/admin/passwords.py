"""The console's page to change the employer's own password, in the console's menu.
The rules are the account service's, as on the employee pages and the API."""

from typing import Any, ClassVar

from sqladmin import BaseView, expose
from sqladmin.flash import Flash
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from contoso.account import service as account
from contoso.account.schemas import PasswordChange
from contoso.auth.dependencies import client_address
from contoso.auth.security import Security
from contoso.browser.forms import form_values, parse, read_form
from contoso.browser.login import start_user_session
from contoso.errors import ContosoError

# The form asks for the new password twice: a typo would lock its owner out.
AGAIN = "password_again"
TEMPLATE = "change_password.html"


class PasswordSettings(BaseView):
    name = "Change password"
    icon = "fa-solid fa-key"
    # Set per app by `for_app`.
    sessions: ClassVar[async_sessionmaker[AsyncSession]]
    security: ClassVar[Security]

    @classmethod
    def for_app(
        cls, sessions: async_sessionmaker[AsyncSession], security: Security
    ) -> "type[PasswordSettings]":
        """A subclass for one app: SQLAdmin stores its admin on the view class, and two
        apps (tests make several) must not share it."""
        return type(cls.__name__, (cls,), {"sessions": sessions, "security": security})

    @expose("/settings/password", methods=["GET", "POST"], identity="password")
    async def change_password(self, request: Request) -> Response:
        """The form; on its POST, the new password, this browser staying logged in (its
        session gets a new id at the new token version) and every other one logged out."""
        if request.method == "GET":
            return await self._page(request, {})
        values = form_values(await read_form(request), "current_password", "new_password", AGAIN)
        if values["new_password"] != values[AGAIN]:
            errors = {AGAIN: "The two new passwords are not the same; type them again."}
            return await self._page(request, {"errors": errors}, 400)
        asked = {name: value for name, value in values.items() if name != AGAIN}
        data, errors = parse(PasswordChange, asked)
        if data is None:
            return await self._page(request, {"errors": errors}, 400)
        try:
            async with self.sessions.begin() as session:
                changed = await account.change_password(
                    session,
                    self.security,
                    request.state.employer,
                    data.current_password,
                    data.new_password,
                    client_address(request),
                )
        except ContosoError as exc:
            said = {"errors": {"current_password": exc.message}}
            response = await self._page(request, said, exc.status_code)
            response.headers.update(exc.response_headers() or {})
            return response
        await start_user_session(request, changed)
        Flash.success(
            request, "Your password is changed. Every other browser and app was logged out."
        )
        return RedirectResponse(request.url_for("admin:index"), status_code=303)

    async def _page(
        self, request: Request, context: dict[str, Any], status_code: int = 200
    ) -> Response:
        return await self.templates.TemplateResponse(
            request,
            TEMPLATE,
            {"title": "Change your password"} | context,
            status_code=status_code,
        )
