from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from contoso.auth import service
from contoso.auth.dependencies import CurrentUser, SecurityDep, client_address, employers_only
from contoso.auth.schemas import (
    InvitationCreate,
    InvitationRead,
    LoginRequest,
    LoginResponse,
    RegisterRequest,
    Token,
    UserRead,
    normalise_email,
)
from contoso.database import SessionDep
from contoso.errors import ErrorBody, error_responses

router = APIRouter(tags=["auth"])

# The generic 401 speaks of tokens; a login is refused for its email and password.
LOGIN_REFUSALS = error_responses(401, 403, 429) | {
    401: {"model": ErrorBody, "description": "Unknown email or wrong password"}
}


@router.post(
    "/auth/register",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(403, 409, 429),
)
async def register(
    body: RegisterRequest, request: Request, session: SessionDep, security: SecurityDep
) -> LoginResponse:
    """Create an account. Choosing the employer role may need an `invitation_code`
    (when the service's EMPLOYER_SIGNUP is "invite") or not be open at all ("closed");
    wrong codes count as wrong passwords for that email (429 past the login limit)."""
    user = await service.register(session, security, body, client_address(request))
    return LoginResponse(
        access_token=security.tokens.issue(user), user=UserRead.model_validate(user)
    )


@router.post("/auth/login", responses=LOGIN_REFUSALS)
async def login(
    body: LoginRequest, request: Request, session: SessionDep, security: SecurityDep
) -> LoginResponse:
    user = await service.authenticate(
        session, security, body.email, body.password, client_address(request)
    )
    return LoginResponse(
        access_token=security.tokens.issue(user), user=UserRead.model_validate(user)
    )


@router.post("/auth/token", responses=LOGIN_REFUSALS)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    security: SecurityDep,
) -> Token:
    """OAuth2 password flow for the /docs "Authorize" button (username = email)."""
    email = normalise_email(form.username)
    user = await service.authenticate(
        session, security, email, form.password, client_address(request)
    )
    return Token(access_token=security.tokens.issue(user))


@router.post(
    "/invitations",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 409),
    dependencies=[employers_only("invite employers")],
)
async def invite_employer(
    body: InvitationCreate, session: SessionDep, user: CurrentUser
) -> InvitationRead:
    """Invite someone to register as an employer (employers only). The code works once,
    for this email, for 7 days; it is shown only in this answer."""
    return await service.invite_employer(session, user, body.email)
