"""The console's invitations: who was invited, as what, and where each invitation is;
a page to invite a list of people at once; resending and revoking."""

from datetime import UTC, datetime
from typing import ClassVar

from markupsafe import Markup
from sqladmin import action, expose
from sqladmin.flash import Flash
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from contoso.admin.views import ConsoleView, outcome_message, selection
from contoso.auth.invitation_codes import InvitationCodes
from contoso.browser.forms import form_values, read_form
from contoso.errors import InvalidField
from contoso.formatting import isolated
from contoso.invitations import addresses
from contoso.invitations import service as invitations
from contoso.invitations.schemas import InvitationState, InviteOutcome
from contoso.models import Invitation, Role

# The form's fields: pasted addresses, a CSV file of them, and the role they get.
PASTED, UPLOADED, ROLE = "addresses", "addresses_file", "role"
# Tabler's light badge colours, by state and by outcome.
_STATE_COLOURS = {
    InvitationState.PENDING: "blue",
    InvitationState.USED: "green",
    InvitationState.EXPIRED: "secondary",
    InvitationState.REVOKED: "red",
}
OUTCOME_COLOURS = {
    InviteOutcome.INVITED: "green",
    InviteOutcome.ALREADY_REGISTERED: "secondary",
    InviteOutcome.INVALID: "red",
    InviteOutcome.ALREADY_INVITED: "yellow",
}


def _state(invitation: Invitation, _: str) -> Markup:
    state = invitations.state_of(invitation, datetime.now(UTC))
    return Markup('<span class="badge bg-{}-lt invitation-state">{}</span>').format(
        _STATE_COLOURS[state], state.label
    )


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
        Invitation.role,
        Invitation.revoked_at,
        Invitation.invited_by,
        Invitation.created_at,
        Invitation.expires_at,
        Invitation.used_by,
        Invitation.used_at,
    ]
    column_labels: ClassVar = {
        Invitation.email: "Email",
        Invitation.role: "Role",
        Invitation.revoked_at: "State",
        Invitation.invited_by: "Invited by",
        Invitation.created_at: "Sent",
        Invitation.expires_at: "Expires",
        Invitation.used_by: "Registered as",
        Invitation.used_at: "Registered",
    }
    column_formatters: ClassVar = {
        Invitation.email: lambda invitation, _: isolated(invitation.email),
        Invitation.role: lambda invitation, _: invitation.role.value,
        Invitation.revoked_at: _state,
        Invitation.invited_by: lambda invitation, _: isolated(invitation.invited_by.username),
        Invitation.used_by: lambda invitation, _: (
            isolated(invitation.used_by.username) if invitation.used_by else ""
        ),
    }
    column_searchable_list: ClassVar = [Invitation.email]
    column_default_sort: ClassVar = [(Invitation.created_at, True), (Invitation.id, True)]
    # Shown as text: employers have no page of their own in the console.
    non_link_related_fields: ClassVar = [Invitation.invited_by, Invitation.used_by]

    def _codes(self, request: Request) -> InvitationCodes:
        codes: InvitationCodes = request.app.state.invitation_codes
        return codes

    @expose("/new", methods=["GET", "POST"])
    async def invite(self, request: Request) -> Response:
        """Invite a list of people: the form, then what happened to each address."""
        context: dict[str, object] = {"title": "Invite people", "values": {ROLE: "employee"}}
        if request.method == "GET":
            return await self.form_page(request, "invite.html", context)
        form = await read_form(request, max_files=1)
        values = form_values(form, PASTED, ROLE)
        context["values"] = values
        try:
            role = _role(values[ROLE])
            listed = addresses.pasted(values[PASTED])
            upload = form.get(UPLOADED)
            if isinstance(upload, UploadFile) and upload.filename:
                listed += addresses.from_csv(await upload.read(), UPLOADED)
            to_invite = addresses.to_invite(listed, field=PASTED)
        except InvalidField as exc:
            return await self.form_refused(request, "invite.html", context, exc)
        finally:
            await form.close()
        async with self.sessions.begin() as session:
            results = await invitations.invite_many(
                session, self._codes(request), request.state.employer, to_invite, role
            )
        invited = sum(result.outcome is InviteOutcome.INVITED for result in results)
        context |= {"results": results, "invited": invited, "colours": OUTCOME_COLOURS}
        # A new form: what was invited is done, and the list below says what was not.
        context["values"] = {ROLE: role.value}
        return await self.form_page(request, "invite.html", context)

    # SQLAdmin lists actions last defined first: the menu reads Resend, then Revoke.
    @action("revoke", "Revoke", add_in_detail=False, add_in_list=True)
    async def revoke(self, request: Request) -> Response:
        return await self._change(request, "Revoke")

    @action("resend", "Resend", add_in_detail=False, add_in_list=True)
    async def resend(self, request: Request) -> Response:
        return await self._change(request, "Resend")

    async def _change(self, request: Request, verb: str) -> Response:
        """Resend or revoke the selected invitations: a confirmation page on GET, the
        change on its POST."""
        form, ids = await selection(request)
        if ids is None:
            Flash.warning(request, f"Select at least one invitation to {verb.lower()} first.")
            return self.back_to_list(request, form)
        employer = request.state.employer
        if form is None:
            async with self.sessions() as session:
                found = await invitations.invitations_by_ids(session, employer, ids)
            now = datetime.now(UTC)
            items = [(item, invitations.state_of(item, now)) for item in found]
            context = {"pks": ",".join(map(str, ids)), "missing": len(ids) - len(found)}
            return await self.confirmation(request, verb, items, context)
        async with self.sessions.begin() as session:
            if verb == "Resend":
                outcome = await invitations.resend(session, self._codes(request), employer, ids)
            else:
                outcome = await invitations.revoke(session, employer, ids)
        past = {"Resend": "Resent", "Revoke": "Revoked"}[verb]
        detail = "with new codes; their old codes no longer work" if verb == "Resend" else ""
        message = outcome_message(past, "invitation", len(outcome.changed), outcome.skipped, detail)
        (Flash.success if outcome.changed else Flash.warning)(request, message)
        return self.back_to_list(request, form)


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidField(ROLE, "Choose employee or employer.") from None
