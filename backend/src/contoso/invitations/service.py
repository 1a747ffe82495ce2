"""Inviting people to register, as employees or employers: one at a time (the API) or a
list (the console), resending and revoking. Every invitation is emailed through the
outbox, in the transaction that makes it; registering with one is `auth.service.register`.
"""

from collections.abc import Sequence
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contoso.auth.invitation_codes import InvitationCodes, code_hash
from contoso.auth.service import INVITATION_LIFETIME, ensure_employer, find_user_by_email
from contoso.database import any_of
from contoso.errors import AlreadyInvited, AlreadyRegistered
from contoso.invitations.schemas import (
    InvitationCreate,
    InvitationRead,
    InvitationSkip,
    InvitationsOutcome,
    InvitationState,
    InvitedAddress,
    InviteOutcome,
)
from contoso.mail import outbox
from contoso.mail.payloads import InvitationPayload
from contoso.models import Invitation, Role, User
from contoso.models.invitations import OPEN_INVITATION

DOING = "invite people"


async def invite(
    session: AsyncSession, codes: InvitationCodes, employer: User, email: str, role: Role
) -> InvitationRead:
    """A new single-use invitation for `email` to register as `role`, emailed to them; the
    code is returned this once (only its hash is stored). AlreadyRegistered when the
    email has an account; AlreadyInvited when its invitation is still open (an expired
    one is renewed instead: a new code, a new week, this role)."""
    ensure_employer(employer, DOING)
    if await find_user_by_email(session, email) is not None:
        raise AlreadyRegistered(f"{email} already has an account; they can log in with it.")
    nonce, code = codes.issue()
    fresh = {
        "code_hash": code_hash(code),
        "role": role,
        "invited_by_id": employer.id,
        "created_at": func.now(),
        "expires_at": func.now() + INVITATION_LIFETIME,
    }
    # One open invitation per email (a unique index): concurrent invitations of one
    # address make one, and an expired one is taken over rather than left beside it.
    expires_at = await session.scalar(
        insert(Invitation)
        .values(email=email, **fresh)
        .on_conflict_do_update(
            index_elements=[Invitation.email],
            index_where=text(OPEN_INVITATION),
            set_=fresh,
            where=Invitation.expires_at <= func.now(),
        )
        .returning(Invitation.expires_at)
    )
    if expires_at is None:
        raise AlreadyInvited(
            f"{email} is already invited and has not registered yet; to send them a new "
            f"code, resend that invitation (Invitations: select it, then Resend)."
        )
    await _email(session, employer, email, role, nonce, expires_at)
    return InvitationRead(code=code, email=email, role=role, expires_at=expires_at)


async def _email(
    session: AsyncSession,
    employer: User,
    email: str,
    role: Role,
    nonce: str,
    expires_at: datetime,
) -> None:
    payload = InvitationPayload(
        nonce=nonce, role=role, invited_by=employer.username, expires_at=expires_at
    )
    await session.execute(outbox.invite(email, payload))


async def invite_many(
    session: AsyncSession,
    codes: InvitationCodes,
    employer: User,
    addresses: Sequence[str],
    role: Role,
) -> list[InvitedAddress]:
    """Invite each of `addresses` (as typed) as `role`, and say per address what
    happened: invited, invalid (with why), already registered, or already invited."""
    ensure_employer(employer, DOING)
    said = []
    for typed in addresses:
        try:
            email = InvitationCreate(email=typed, role=role).email
        except ValidationError as exc:
            reason = "; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors())
            said.append(InvitedAddress(typed, InviteOutcome.INVALID, reason))
            continue
        try:
            await invite(session, codes, employer, email, role)
        except AlreadyRegistered as exc:
            said.append(InvitedAddress(typed, InviteOutcome.ALREADY_REGISTERED, exc.message))
        except AlreadyInvited as exc:
            said.append(InvitedAddress(typed, InviteOutcome.ALREADY_INVITED, exc.message))
        else:
            detail = f"Emailed a link to register as an {role.value} as {email}."
            said.append(InvitedAddress(typed, InviteOutcome.INVITED, detail))
    return said


async def invitations_by_ids(
    session: AsyncSession, employer: User, ids: Sequence[int]
) -> list[Invitation]:
    """The invitations among `ids` (what an action's confirmation lists), oldest first."""
    ensure_employer(employer, DOING)
    found = await session.scalars(
        select(Invitation).where(any_of(Invitation.id, ids)).order_by(Invitation.id)
    )
    return list(found)


async def resend(
    session: AsyncSession, codes: InvitationCodes, employer: User, ids: Sequence[int]
) -> InvitationsOutcome:
    """Give each open invitation among `ids` (pending or expired) a new code, valid for
    a new week, and email it; its old code stops working. Used and revoked ones are
    skipped; ids of no invitation are ignored."""
    ensure_employer(employer, DOING)
    outcome = InvitationsOutcome()
    for invitation in await _locked(session, ids):
        skip = _skip(invitation)
        if skip is not None:
            outcome.skipped[invitation.id] = skip
            continue
        nonce, code = codes.issue()
        expires_at = await session.scalar(
            update(Invitation)
            .where(Invitation.id == invitation.id)
            .values(code_hash=code_hash(code), expires_at=func.now() + INVITATION_LIFETIME)
            .returning(Invitation.expires_at)
        )
        assert expires_at is not None  # the row is locked, and open
        await _email(session, employer, invitation.email, invitation.role, nonce, expires_at)
        outcome.changed.append(invitation.id)
    return outcome


async def revoke(session: AsyncSession, employer: User, ids: Sequence[int]) -> InvitationsOutcome:
    """Revoke each open invitation among `ids`: its code stops working, and the email
    may be invited again. Used and revoked ones are skipped; ids of no invitation are
    ignored."""
    ensure_employer(employer, DOING)
    outcome = InvitationsOutcome()
    for invitation in await _locked(session, ids):
        skip = _skip(invitation)
        if skip is not None:
            outcome.skipped[invitation.id] = skip
            continue
        await session.execute(
            update(Invitation).where(Invitation.id == invitation.id).values(revoked_at=func.now())
        )
        outcome.changed.append(invitation.id)
    return outcome


async def _locked(session: AsyncSession, ids: Sequence[int]) -> list[Invitation]:
    # Locked in id order: a registration using one of them waits, then finds it changed.
    rows = await session.scalars(
        select(Invitation)
        .where(any_of(Invitation.id, ids))
        .order_by(Invitation.id)
        .with_for_update()
    )
    return list(rows)


def _skip(invitation: Invitation) -> InvitationSkip | None:
    if invitation.used_at is not None:
        return InvitationSkip.USED
    if invitation.revoked_at is not None:
        return InvitationSkip.REVOKED
    return None


def state_of(invitation: Invitation, now: datetime) -> InvitationState:
    """Where `invitation` is at `now`."""
    if invitation.used_at is not None:
        return InvitationState.USED
    if invitation.revoked_at is not None:
        return InvitationState.REVOKED
    if invitation.expires_at <= now:
        return InvitationState.EXPIRED
    return InvitationState.PENDING
