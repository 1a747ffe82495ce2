"""Registration, login and token resolution: the rules for who may get in."""

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contoso.auth.hashing import PasswordHasher
from contoso.auth.queries import holds_token, token_parameters
from contoso.auth.schemas import RegisterRequest
from contoso.auth.security import Security
from contoso.auth.tokens import INVALID_TOKEN, TokenClaims
from contoso.database import column_rows
from contoso.errors import Conflict, Forbidden, Unauthorized
from contoso.models import User

WRONG_CREDENTIALS = "Incorrect email or password."
SUSPENDED = "This account is suspended; contact your employer."


async def register(session: AsyncSession, hasher: PasswordHasher, request: RegisterRequest) -> User:
    """Create an account; Conflict if the email is taken (also under a race)."""
    password_hash = await hasher.hash(request.password)
    # ON CONFLICT DO NOTHING: concurrent sign-ups with one email get exactly one row
    # and no aborted transaction for the others.
    statement = (
        insert(User)
        .values(
            email=request.email,
            username=request.username,
            password_hash=password_hash,
            role=request.role,
        )
        .on_conflict_do_nothing(index_elements=[User.email])
        .returning(User)
    )
    user = (await session.scalars(statement)).one_or_none()
    if user is None:
        raise Conflict(f"An account with email {request.email} already exists; log in instead.")
    return user


async def find_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email))


async def sign_in(
    session: AsyncSession, security: Security, email: str, password: str, client: str
) -> User | None:
    """The "Login / Register" step: the user for these credentials, or None if the
    email is new (the caller then offers registration).

    A wrong password is Unauthorized; suspension is revealed (Forbidden) only after a
    correct password. The hash runs once either way, so timing does not tell them apart.
    Every call takes a throttle slot first; only a correct password gives it back.
    """
    await security.throttle.attempt(email, client)
    user = await find_user_by_email(session, email)
    check = await security.hasher.verify(password, user.password_hash if user else None)
    if user is None:
        return None
    if not check.valid:
        raise Unauthorized(WRONG_CREDENTIALS)
    await security.throttle.succeeded(email, client)
    if user.suspended:
        raise Forbidden(SUSPENDED)
    if check.new_hash:
        await session.execute(
            update(User).where(User.id == user.id).values(password_hash=check.new_hash)
        )
    return user


async def authenticate(
    session: AsyncSession, security: Security, email: str, password: str, client: str
) -> User:
    """The user with these credentials, or Unauthorized (the same message for an
    unknown email and a wrong password, which both keep their throttle slot)."""
    user = await sign_in(session, security, email, password, client)
    if user is None:
        raise Unauthorized(WRONG_CREDENTIALS)
    return user


# Most API requests run this: built once, reading columns past the ORM's identity map.
_TOKEN_BEARER = select(*User.__table__.columns).where(*holds_token(User))


async def user_for_token(session: AsyncSession, claims: TokenClaims) -> User:
    """The active user a token belongs to; Unauthorized once they are suspended or gone."""
    rows = await column_rows(session, _TOKEN_BEARER, token_parameters(claims))
    if not rows:
        raise Unauthorized(INVALID_TOKEN)
    return User(**rows[0])


def ensure_employer(user: User, doing: str) -> None:
    """Forbidden unless `user` is an employer; `doing` completes "Only employers can ..."."""
    if not user.is_employer:
        raise Forbidden(f"Only employers can {doing}.")


def ensure_employee(user: User, doing: str) -> None:
    if user.is_employer:
        raise Forbidden(f"Only employees can {doing}.")
