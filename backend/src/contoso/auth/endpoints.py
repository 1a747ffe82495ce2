from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from contoso.auth import service
from contoso.auth.dependencies import CurrentUser, SecurityDep, client_address
from contoso.auth.schemas import (
    LoginRequest,
    LoginResponse,
    RegisterRequest,
    Token,
    UserRead,
    normalise_email,
)
from contoso.database import SessionDep
from contoso.errors import error_responses

router = APIRouter(tags=["auth"])


@router.post("/auth/register", status_code=status.HTTP_201_CREATED, responses=error_responses(409))
async def register(
    body: RegisterRequest, session: SessionDep, security: SecurityDep
) -> LoginResponse:
    user = await service.register(session, security.hasher, body)
    return LoginResponse(
        access_token=security.tokens.issue(user), user=UserRead.model_validate(user)
    )


@router.post(
    "/auth/login",
    responses={
        401: {"description": "Unknown email or wrong password"},
        403: {"description": "Suspended"},
    },
)
async def login(
    body: LoginRequest, request: Request, session: SessionDep, security: SecurityDep
) -> LoginResponse:
    user = await service.authenticate(
        session, security, body.email, body.password, client_address(request)
    )
    return LoginResponse(
        access_token=security.tokens.issue(user), user=UserRead.model_validate(user)
    )


@router.post("/auth/token", responses=error_responses(401, 403, 429))
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


@router.get("/users/me", responses=error_responses(401))
async def me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)
