"""Registration (with or without an invitation), login and token resolution: the rules
for who may get in."""

import secrets
from collections.abc import Sequence
from datetime import timedelta

from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, func, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contoso.auth import queries
from contoso.auth.hashing import PasswordHasher
from contoso.auth.invitation_codes import code_hash
from contoso.auth.schemas import RegisterRequest
from contoso.auth.security import Security
from contoso.auth.sso import Identity
from contoso.auth.tokens import INVALID_TOKEN, TokenClaims
from contoso.config import EmployeeSignup, EmployerSignup
from contoso.database import Driver, released
from contoso.errors import (
    Conflict,
    Forbidden,
    InvalidInvitation,
    InvitationRequired,
    OutsideAllowedDomains,
    SignInFailed,
    Unauthorized,
)
from contoso.models import Invitation, Role, User

WRONG_CREDENTIALS = "Incorrect email or password."
SUSPENDED = "This account is suspended; contact your employer."
EMPLOYERS_ONLY = "This console is for employers; your account is an employee account."


# How long an invitation code works (a resend starts it again).
INVITATION_LIFETIME = timedelta(days=7)


async def register(
    session: AsyncSession, security: Security, request: RegisterRequest, client: str
) -> User:
    """Self-service sign-up, on the API and the pages. With an `invitation_code`, in
    every mode: the code must be open for this email (InvalidInvitation otherwise), it
    gives its role (a role asked for must be that one), and it is used by this sign-up
    alone, even against concurrent ones. Without one, EMPLOYER_SIGNUP decides who may
    choose the employer role and EMPLOYEE_SIGNUP who may register as an employee; a
    refusal (Forbidden) says what to do instead. An invitation code is a password for
    its email, throttled as logins are (TooManyAttempts). Under SSO_ONLY, accounts come
    from the identity provider alone."""
    if security.sso_only:
        raise Forbidden(sso_only_message(security))
    if request.invitation_code:
        return await _register_invited(session, security, request, client)
    if request.role is Role.EMPLOYER:
        _employer_signup_allowed(security, request.email)
    else:
        _employee_signup_allowed(security, request.email)
    return await create_account(session, security.hasher, request)


def _employer_signup_allowed(security: Security, email: str) -> None:
    policy = security.employer_signup
    if policy is EmployerSignup.CLOSED:
        raise Forbidden(EMPLOYER_SIGNUP_CLOSED)
    if policy is EmployerSignup.INVITE:
        raise InvitationRequired(
            f"Registering as an employer needs an invitation code. Ask an employer to invite "
            f"{email} (in the console under Invitations), then enter the code they send."
        )


def _employee_signup_allowed(security: Security, email: str) -> None:
    policy = security.employee_signup
    if policy is EmployeeSignup.INVITE:
        raise InvitationRequired(
            f"Registering needs an invitation. Ask an employer to invite {email} (in the "
            f"console under Invitations), then follow the link in the email they send."
        )
    if policy is EmployeeSignup.DOMAIN and not in_domains(email, security.allowed_email_domains):
        domains = " or ".join(f"@{domain}" for domain in security.allowed_email_domains)
        raise OutsideAllowedDomains(
            f"Only {domains} addresses can register here without an invitation. Register "
            f"with your work address, or ask an employer to invite {email} and follow the "
            f"link in the email they send."
        )


def in_domains(email: str, domains: Sequence[str]) -> bool:
    """Whether `email` (normalised) is at one of `domains` or a subdomain of one."""
    domain = email.rpartition("@")[2]
    return any(domain == allowed or domain.endswith(f".{allowed}") for allowed in domains)


EMPLOYER_SIGNUP_CLOSED = (
    "Employer accounts cannot be created by signing up here. Register as an "
    "employee, or ask whoever runs this service to create your employer account."
)


def _open_invitation_for(email: str) -> ColumnElement[bool]:
    return and_(
        Invitation.email == email,
        Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > func.now(),
    )


def _open_invitation(code_hash: str, email: str) -> ColumnElement[bool]:
    return and_(Invitation.code_hash == code_hash, _open_invitation_for(email))


async def _register_invited(
    session: AsyncSession, security: Security, request: RegisterRequest, client: str
) -> User:
    """Sign-up with an invitation code. Each code tried takes a login throttle slot of
    the email and client first; a right one gives them back."""
    await security.throttle.attempt(request.email, client)
    assert request.invitation_code is not None  # register's branch
    code = code_hash(request.invitation_code)
    role = await session.scalar(
        select(Invitation.role).where(_open_invitation(code, request.email))
    )
    if role is None:
        raise InvalidInvitation(
            f"This invitation code is not valid for {request.email}: check it for typos, or "
            f"ask an employer for a new one (a code works once, for its own email, for "
            f"{INVITATION_LIFETIME.days} days)."
        )
    await security.throttle.succeeded(request.email, client)
    if "role" in request.model_fields_set and request.role is not role:
        raise InvalidInvitation(
            f"This invitation is for an {role.value} account: register as an {role.value}, "
            f"or ask the employer who invited you for an invitation as an {request.role.value}."
        )
    if role is Role.EMPLOYER and security.employer_signup is EmployerSignup.CLOSED:
        raise Forbidden(EMPLOYER_SIGNUP_CLOSED)
    # A savepoint: a refusal below takes the account back, even when the caller (a
    # page showing the form again) commits the request's transaction.
    async with session.begin_nested():
        user = await create_account(
            session, security.hasher, request.model_copy(update={"role": role})
        )
        # Conditional: of concurrent sign-ups with one code, one finds it open.
        used = await session.scalar(
            update(Invitation)
            .where(_open_invitation(code, request.email), Invitation.role == role)
            .values(used_at=func.now(), used_by_id=user.id)
            .returning(Invitation.id)
        )
        if used is None:
            raise InvalidInvitation(
                "This invitation code has just been used or revoked; ask an employer for "
                "a new one."
            )
    return user


async def create_account(
    session: AsyncSession,
    hasher: PasswordHasher,
    request: RegisterRequest,
    *,
    operator_created: bool = False,
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
            operator_created=operator_created,
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
    # The hash waits for one of a few hashing threads: the request's turn at the database
    # is given back meanwhile, else a burst of logins holds every turn while it queues
    # and every other request waits behind it.
    async with released(session):
        check = await security.hasher.verify(password, user.password_hash if user else None)
    if user is None:
        return None
    if not check.valid:
        raise Unauthorized(WRONG_CREDENTIALS)
    await security.throttle.succeeded(email, client)
    if user.suspended:
        raise Forbidden(SUSPENDED)
    if security.sso_only and not user.operator_created:
        raise Forbidden(sso_only_message(security))
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


def sso_only_message(security: Security) -> str:
    assert security.sso is not None  # SSO_ONLY needs it (config)
    return (
        f"This company signs in with {security.sso.label}: use \u201cSign in with "
        f"{security.sso.label}\u201d on the login page."
    )


def password_login(security: Security) -> ColumnElement[bool]:
    """Which accounts may use a password (log in, reset it): under SSO_ONLY, those the
    operator created; otherwise all."""
    return User.operator_created.is_(True) if security.sso_only else true()


async def sso_sign_in(
    session: AsyncSession, security: Security, identity: Identity, *, employers_only: bool = False
) -> User:
    """The account the identity provider signed `identity` into: the one with its
    email, which the provider must have verified; or, for a new email, one made now as
    an open sign-up would make it (EMPLOYEE_SIGNUP and ALLOWED_EMAIL_DOMAINS apply), an
    open invitation for the email giving its role, or OIDC_EMPLOYER_GROUP among the
    identity's groups making an employer. Suspension refuses, as a password login does;
    so does an employee when `employers_only` (the console), before any account is made."""
    if not identity.email_verified:
        raise Forbidden(
            f"Your identity provider has not verified {identity.email}; verify the address "
            f"there (or ask whoever runs it), then sign in again."
        )
    user = await find_user_by_email(session, identity.email)
    if user is None:
        role = await _sso_role(session, security, identity)
        if employers_only and role is not Role.EMPLOYER:
            raise Forbidden(EMPLOYERS_ONLY)
        user = await _sso_account(session, security, identity, role)
    if user.suspended:
        raise Forbidden(SUSPENDED)
    if employers_only and not user.is_employer:
        raise Forbidden(EMPLOYERS_ONLY)
    return user


async def _sso_role(session: AsyncSession, security: Security, identity: Identity) -> Role:
    """The role of the account a first sign-in makes, or the refusal open sign-up gives."""
    assert security.sso is not None
    group = security.sso.employer_group
    if group and group in identity.groups:
        return Role.EMPLOYER
    # At most one invitation per address is open (AlreadyInvited).
    invited = await session.scalar(
        select(Invitation.role).where(_open_invitation_for(identity.email))
    )
    if invited is None:
        _employee_signup_allowed(security, identity.email)
        return Role.EMPLOYEE
    if invited is Role.EMPLOYER and security.employer_signup is EmployerSignup.CLOSED:
        raise Forbidden(EMPLOYER_SIGNUP_CLOSED)
    return invited


async def _sso_account(
    session: AsyncSession, security: Security, identity: Identity, role: Role
) -> User:
    # The account's password is one nobody knows: "Forgot your password?" sets one,
    # where passwords are in use at all. The provider's name for them, or failing
    # that the address's local part, is the username.
    password = secrets.token_urlsafe(32)
    for username in (identity.name, identity.email.partition("@")[0][:64]):
        try:
            request = RegisterRequest(
                email=identity.email, username=username, password=password, role=role
            )
            break
        except ValidationError:
            continue
    else:
        raise SignInFailed(f"{identity.email} is not an address this app can make an account for.")
    try:
        user = await create_account(session, security.hasher, request)
    except Conflict:
        # Made by a sign-in of the same person a moment ago (ON CONFLICT DO NOTHING
        # waited for it to commit): theirs is the account.
        found = await find_user_by_email(session, identity.email)
        assert found is not None
        return found
    await session.execute(
        update(Invitation)
        .where(_open_invitation_for(identity.email))
        .values(used_at=func.now(), used_by_id=user.id)
    )
    return user


async def user_for_token(driver: Driver, claims: TokenClaims) -> User:
    """The active user a token belongs to; Unauthorized once they are suspended (saying
    so: logging in again will not help) or gone."""
    row = await driver.fetchrow(
        queries.TOKEN_BEARER, user_id=claims.user_id, version=claims.version
    )
    if row is None:
        suspended = await driver.fetchval(queries.SUSPENDED, user_id=claims.user_id)
        raise Unauthorized(SUSPENDED if suspended else INVALID_TOKEN)
    # asyncpg reads PostgreSQL's enum as its text; the model holds the member.
    return User(**dict(row) | {"role": Role(row["role"])})


def ensure_employer(user: User, doing: str) -> None:
    """Forbidden unless `user` is an employer; `doing` completes "Only employers can ..."."""
    if not user.is_employer:
        raise Forbidden(f"Only employers can {doing}.")


async def set_email_notifications(session: AsyncSession, user: User, on: bool) -> None:
    """Turn emails about `user`'s own tickets (decisions, requests for changes,
    payments) on or off. Only their own: the setting of the user passed, never another's."""
    await session.execute(update(User).where(User.id == user.id).values(email_notifications=on))
