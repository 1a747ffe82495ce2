"""Registration, invitations, login and token resolution: the rules for who may get in."""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contoso.auth.hashing import PasswordHasher
from contoso.auth.queries import holds_token, token_parameters
from contoso.auth.schemas import InvitationRead, RegisterRequest
from contoso.auth.security import Security
from contoso.auth.tokens import INVALID_TOKEN, TokenClaims
from contoso.config import EmployerSignup
from contoso.database import column_rows
from contoso.errors import Conflict, Forbidden, Unauthorized
from contoso.models import Invitation, Role, User

WRONG_CREDENTIALS = "Incorrect email or password."
SUSPENDED = "This account is suspended; contact your employer."


INVITATION_LIFETIME = timedelta(days=7)
# Read aloud or typed from a chat: no 0/O or 1/I/L to confuse. 12 of 31 symbols is
# 59 bits, and a code only works for its own email, once, for a week.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CODE_GROUPS, _CODE_GROUP_LENGTH = 3, 4


async def register(
    session: AsyncSession, security: Security, request: RegisterRequest, client: str
) -> User:
    """Self-service sign-up, on the API and the pages: `EMPLOYER_SIGNUP` decides who may
    choose the employer role (anyone; holders of an invitation for their email; nobody).
    Forbidden, with what to do instead, when the role is not open to them; an invitation
    code is a password for its email, throttled as logins are (TooManyAttempts)."""
    invitation_id = None
    if request.role is Role.EMPLOYER:
        invitation_id = await _employer_signup_allowed(session, security, request, client)
    user = await create_account(session, security.hasher, request)
    if invitation_id is not None:
        await session.execute(
            update(Invitation)
            .where(Invitation.id == invitation_id)
            .values(used_at=func.now(), used_by_id=user.id)
        )
    return user


async def _employer_signup_allowed(
    session: AsyncSession, security: Security, request: RegisterRequest, client: str
) -> int | None:
    """The invitation this employer sign-up uses (locked until the transaction ends, so
    a code is used once), None when none is needed; Forbidden when it may not happen.
    Each code tried takes a login throttle slot of the email and client first; a right
    one gives them back."""
    policy = security.employer_signup
    if policy is EmployerSignup.OPEN:
        return None
    if policy is EmployerSignup.CLOSED:
        raise Forbidden(
            "Employer accounts cannot be created by signing up here. Register as an "
            "employee, or ask whoever runs this service to create your employer account."
        )
    if not request.invitation_code:
        raise Forbidden(
            f"Registering as an employer needs an invitation code. Ask an employer to invite "
            f"{request.email} (in the console under Invitations), then enter the code they send."
        )
    await security.throttle.attempt(request.email, client)
    invitation_id = await session.scalar(
        select(Invitation.id)
        .where(
            Invitation.code_hash == _code_hash(request.invitation_code),
            Invitation.email == request.email,
            Invitation.used_at.is_(None),
            Invitation.expires_at > func.now(),
        )
        .with_for_update()
    )
    if invitation_id is None:
        raise Forbidden(
            f"This invitation code is not valid for {request.email}: check it for typos, or "
            f"ask an employer for a new one (a code works once, for its own email, for "
            f"{INVITATION_LIFETIME.days} days)."
        )
    await security.throttle.succeeded(request.email, client)
    return invitation_id


async def invite_employer(session: AsyncSession, employer: User, email: str) -> InvitationRead:
    """A new single-use invitation for `email` to register as an employer; the code is
    returned this once (only its hash is stored)."""
    ensure_employer(employer, "invite employers")
    if await find_user_by_email(session, email) is not None:
        raise Conflict(f"{email} already has an account; they can log in with it.")
    code = "-".join(
        "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_GROUP_LENGTH))
        for _ in range(_CODE_GROUPS)
    )
    expires_at = await session.scalar(
        insert(Invitation)
        .values(
            email=email,
            code_hash=_code_hash(code),
            invited_by_id=employer.id,
            expires_at=func.now() + INVITATION_LIFETIME,
        )
        .returning(Invitation.expires_at)
    )
    assert expires_at is not None  # RETURNING of the row just inserted
    return InvitationRead(code=code, email=email, expires_at=expires_at)


def _code_hash(code: str) -> str:
    # High-entropy and single-use, so a plain SHA-256 suffices (no slow hash needed).
    normalised = "".join(char for char in code.upper() if char.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


async def create_account(
    session: AsyncSession, hasher: PasswordHasher, request: RegisterRequest
) -> User:
    """Create an account as asked, whatever the role (the operator's commands use this;
    sign-up goes through `register`); Conflict if the email is taken (also under a race)."""
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
    """The active user a token belongs to; Unauthorized once they are suspended (saying
    so: logging in again will not help) or gone."""
    rows = await column_rows(session, _TOKEN_BEARER, token_parameters(claims))
    if not rows:
        suspended = await session.scalar(select(User.suspended).where(User.id == claims.user_id))
        raise Unauthorized(SUSPENDED if suspended else INVALID_TOKEN)
    return User(**rows[0])


def ensure_employer(user: User, doing: str) -> None:
    """Forbidden unless `user` is an employer; `doing` completes "Only employers can ..."."""
    if not user.is_employer:
        raise Forbidden(f"Only employers can {doing}.")


def ensure_employee(user: User, doing: str) -> None:
    if user.is_employer:
        raise Forbidden(f"Only employees can {doing}.")


async def set_email_notifications(session: AsyncSession, user: User, on: bool) -> None:
    """Turn emails about `user`'s own tickets (decisions, requests for changes,
    payments) on or off. Only their own: the setting of the user passed, never another's."""
    await session.execute(update(User).where(User.id == user.id).values(email_notifications=on))
