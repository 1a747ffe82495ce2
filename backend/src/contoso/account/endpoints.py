"""`/users/me`: you, your settings, your password, and what the company owes and has
paid you; and resetting a forgotten password. It brings auth, mail and payments
together, so it sits above them; it is listed under the auth tag, beside logging in."""

from fastapi import APIRouter, Request, status

from contoso.account import service as account
from contoso.account.schemas import (
    Me,
    MeUpdate,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    PasswordResetRequested,
)
from contoso.auth import service
from contoso.auth.dependencies import CurrentUser, SecurityDep, client_address
from contoso.auth.schemas import Token, UserRead
from contoso.database import SessionDep
from contoso.errors import ErrorBody, error_responses
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


@router.post(
    "/auth/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(429),
)
async def request_password_reset(
    body: PasswordResetRequest, request: Request, session: SessionDep, security: SecurityDep
) -> PasswordResetRequested:
    """Email a link to choose a new password (valid 1 hour, once; a newer request
    replaces it) to the account with this address. The answer is the same 202 whether
    an account has the address or not, and a suspended account gets no email. Past
    PASSWORD_RESET_RATE_LIMIT requests for one address from one client: 429."""
    await account.request_password_reset(session, security, body.email, client_address(request))
    return PasswordResetRequested()


@router.post(
    "/auth/password-reset/confirm",
    responses={400: {"model": ErrorBody, "description": "The link no longer works"}},
)
async def confirm_password_reset(
    body: PasswordResetConfirm, session: SessionDep, security: SecurityDep
) -> Token:
    """Set a new password with the token of an emailed reset link (the same rules as
    registering), and log in: every other token and browser session of the account
    ends. A token that is unknown, used, expired or replaced is a 400."""
    user = await account.reset_password(session, security, body.token, body.password)
    return Token(access_token=security.tokens.issue(user))


@router.post("/users/me/password", responses=error_responses(401, 403, 429))
async def change_password(
    body: PasswordChange,
    request: Request,
    session: SessionDep,
    security: SecurityDep,
    user: CurrentUser,
) -> Token:
    """Change your password, giving the current one (wrong: 403; guesses are throttled
    as logins are, 429). Answers a new token: every other token and browser session of
    yours, this request's token included, ends."""
    changed = await account.change_password(
        session, security, user, body.current_password, body.new_password, client_address(request)
    )
    return Token(access_token=security.tokens.issue(changed))
