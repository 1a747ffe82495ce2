"""The console's invitations: who was invited to be an employer, and a page to invite."""

from typing import ClassVar

from pydantic import ValidationError
from sqladmin import expose
from starlette.requests import Request
from starlette.responses import Response

from contoso.admin.views import ConsoleView
from contoso.auth import service as auth
from contoso.auth.schemas import InvitationCreate
from contoso.browser.forms import field_errors, read_form
from contoso.errors import ContosoError
from contoso.formatting import isolated
from contoso.models import Invitation


class InvitationAdmin(ConsoleView, model=Invitation):
    url_identity = "invitations"
    name = "Invitation"
    name_plural = "Invitations"
    icon = "fa-solid fa-envelope-open-text"
    can_view_details = False
    can_export = False
    list_template = "invitations_list.html"

    column_list: ClassVar = [
        Invitation.email,
        Invitation.invited_by,
        Invitation.created_at,
        Invitation.expires_at,
        Invitation.used_by,
        Invitation.used_at,
    ]
    column_labels: ClassVar = {
        Invitation.email: "Email",
        Invitation.invited_by: "Invited by",
        Invitation.created_at: "Sent",
        Invitation.expires_at: "Expires",
        Invitation.used_by: "Registered as",
        Invitation.used_at: "Registered",
    }
    column_formatters: ClassVar = {
        Invitation.email: lambda invitation, _: isolated(invitation.email),
        Invitation.invited_by: lambda invitation, _: isolated(invitation.invited_by.username),
        Invitation.used_by: lambda invitation, _: (
            isolated(invitation.used_by.username) if invitation.used_by else ""
        ),
    }
    column_searchable_list: ClassVar = [Invitation.email]
    column_default_sort: ClassVar = [(Invitation.created_at, True), (Invitation.id, True)]
    # Shown as text: employers have no page of their own in the console.
    non_link_related_fields: ClassVar = [Invitation.invited_by, Invitation.used_by]

    @expose("/new", methods=["GET", "POST"])
    async def invite(self, request: Request) -> Response:
        """Invite an employer: the form, then the code, shown once, to pass on."""
        context: dict[str, object] = {"model_view": self, "title": "Invite an employer"}
        if request.method == "GET":
            return await self._page(request, context)
        form = await read_form(request)
        email = str(form.get("email", ""))
        context["email"] = email
        try:
            data = InvitationCreate(email=email)
        except ValidationError as exc:
            error = field_errors(exc).get("email", "Enter an email address.")
            return await self._page(request, context | {"error": error}, 400)
        try:
            async with self.sessions.begin() as session:
                issued = await auth.invite_employer(session, request.state.employer, data.email)
        except ContosoError as exc:
            return await self._page(request, context | {"error": exc.message}, exc.status_code)
        return await self._page(request, context | {"issued": issued}, 201)

    async def _page(
        self, request: Request, context: dict[str, object], status_code: int = 200
    ) -> Response:
        return await self.templates.TemplateResponse(
            request, "invite.html", context, status_code=status_code
        )
