"""`/users/me`: you, your settings, and what the company owes and has paid you. It
brings auth and payments together, so it sits above both; it is listed under the auth
tag, beside logging in."""

from fastapi import APIRouter, Request

from contoso.account.schemas import Me, MeUpdate
from contoso.auth import service
from contoso.auth.dependencies import CurrentUser
from contoso.auth.schemas import UserRead
from contoso.database import SessionDep
from contoso.errors import error_responses
from contoso.payments.service import reimbursement

router = APIRouter(tags=["auth"])


@router.get("/users/me", responses=error_responses(401))
async def me(request: Request, session: SessionDep, user: CurrentUser) -> Me:
    """You, with what the company owes you (approved, not yet paid) and has paid you
    this calendar year."""
    owed = await reimbursement(session, user, request.app.state.settings.zone)
    return Me(
        **UserRead.model_validate(user).model_dump(),
        **owed.model_dump(),
        email_notifications=user.email_notifications,
    )


@router.patch("/users/me", responses=error_responses(401))
async def update_me(body: MeUpdate, request: Request, session: SessionDep, user: CurrentUser) -> Me:
    """Change your own settings: turn emails about your tickets off or on."""
    await service.set_email_notifications(session, user, body.email_notifications)
    user.email_notifications = body.email_notifications
    return await me(request, session, user)
