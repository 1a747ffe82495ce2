from fastapi import APIRouter, status

from contoso.auth.dependencies import CurrentUser, SecurityDep, employers_only
from contoso.database import SessionDep
from contoso.errors import error_responses
from contoso.invitations import service
from contoso.invitations.schemas import InvitationCreate, InvitationRead

router = APIRouter(tags=["auth"])


@router.post(
    "/invitations",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 409),
    dependencies=[employers_only(service.DOING)],
    # The name from when only employers were invited: generated clients call it so.
    operation_id="auth-invite-employer",
)
async def invite(
    body: InvitationCreate, session: SessionDep, security: SecurityDep, user: CurrentUser
) -> InvitationRead:
    """Invite someone to register as an employee or an employer (`role`; employer when
    left out), employers only. They are emailed a link to the login page with the code
    filled in; the code works once, for this email and role, for 7 days, and is shown
    only in this answer and that email. 409 when the email has an account, or an
    invitation that is still open (resend it from the console instead)."""
    return await service.invite(session, security.invitation_codes, user, body.email, body.role)
