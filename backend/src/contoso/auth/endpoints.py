from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from contoso.auth import service
from contoso.auth.dependencies import SecurityDep, client_address
from contoso.auth.schemas import (
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
    """Create an account. An `invitation_code` (from an employer's invitation) is
    checked whenever it is sent, and gives its role. Without one, the employer role may
    need a code (EMPLOYER_SIGNUP "invite") or be closed ("closed"), and so may an
    employee account (EMPLOYEE_SIGNUP "invite", or "domain" for an address outside
    ALLOWED_EMAIL_DOMAINS). Wrong codes count as wrong passwords for that email (429 past
    the login limit)."""
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
