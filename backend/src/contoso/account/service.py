"""Your password: a new one through an emailed link when it is forgotten, or changed
knowing the current one. Either way every API token and browser session of the account
from before stops working (its `token_version` moves on, as suspension moves it)."""

from sqlalchemy import (
    ColumnElement,
    Interval,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from contoso.account.schemas import RESET_LIFETIME
from contoso.auth.reset_tokens import token_hash
from contoso.auth.security import Security
from contoso.auth.service import password_login
from contoso.auth.tokens import INVALID_TOKEN
from contoso.database import Database
from contoso.errors import InvalidResetLink, Unauthorized, WrongPassword
from contoso.mail import outbox
from contoso.models import PasswordReset, User

INVALID_RESET_LINK = (
    "This password reset link no longer works: it was used already, has expired, was "
    "replaced by a newer one, or was not copied whole. Ask for a new link."
)
WRONG_CURRENT = (
    "Your current password is not right; type it again (if you forgot it, log out and "
    "use \u201cForgot your password?\u201d)."
)


async def request_password_reset(
    session: AsyncSession, security: Security, email: str, client: str
) -> None:
    """Email the active account with this address a link to set a new password, through
    the outbox (so it goes once this transaction commits). Throttled per address and
    client; otherwise the same answer and the same work for an address with no account,
    or a suspended one, which get no email: a new token is made and hashed, and one
    statement runs that simply writes nothing for them."""
    await security.throttle.reset_requested(email, client)
    nonce, token = security.reset_tokens.issue()
    account = (
        select(User.id, User.email, User.username)
        .where(User.email == email, User.suspended.is_(False), password_login(security))
        .cte("account")
    )
    link = (
        insert(PasswordReset)
        .from_select(
            ["user_id", "token_hash", "expires_at"],
            select(
                account.c.id,
                literal(token_hash(token)),
                func.now() + literal(RESET_LIFETIME, Interval),
            ),
        )
        .returning(PasswordReset.user_id, PasswordReset.expires_at)
        .cte("link")
    )
    links = (
        select(link.c.user_id, account.c.email, account.c.username, link.c.expires_at)
        .join(account, account.c.id == link.c.user_id)
        .cte("links")
    )
    await session.execute(outbox.reset_links(links, nonce))


async def reset_password(
    session: AsyncSession, security: Security, token: str, password: str
) -> User:
    """Set `password` for the user whose reset link `token` is, and use the link up;
    InvalidResetLink if it is unknown, used, expired or replaced by a newer request, or
    its user is suspended. One conditional UPDATE takes the link: of two uses at once,
    exactly one succeeds."""
    new_hash = await security.hasher.hash(password)
    newer = aliased(PasswordReset)
    taken = (
        update(PasswordReset)
        .where(
            PasswordReset.token_hash == token_hash(token),
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > func.now(),
            ~exists().where(newer.user_id == PasswordReset.user_id, newer.id > PasswordReset.id),
            PasswordReset.user_id.in_(
                select(User.id).where(User.suspended.is_(False), password_login(security))
            ),
        )
        .values(used_at=func.now())
        .returning(PasswordReset.user_id)
        .cte("taken")
    )
    user = await _set_password(session, User.id.in_(select(taken.c.user_id)), new_hash)
    if user is None:
        raise InvalidResetLink(INVALID_RESET_LINK)
    return user


async def reset_link_works(session: AsyncSession, token: str) -> bool:
    """Whether `token` would set a password now (the reset page asks before showing
    its form; only `reset_password` decides, and uses it up)."""
    newer = aliased(PasswordReset)
    found = await session.scalar(
        select(PasswordReset.id).where(
            PasswordReset.token_hash == token_hash(token),
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > func.now(),
            ~exists().where(newer.user_id == PasswordReset.user_id, newer.id > PasswordReset.id),
        )
    )
    return found is not None


async def change_password(
    session: AsyncSession,
    security: Security,
    user: User,
    current_password: str,
    new_password: str,
    client: str,
) -> User:
    """Set `user`'s password to `new_password` when `current_password` is theirs, else
    WrongPassword. Guesses are throttled as logins are (the same counts: 429 past
    LOGIN_RATE_LIMIT), and a right password gives this client's attempts back."""
    await security.throttle.attempt(user.email, client)
    check = await security.hasher.verify(current_password, user.password_hash)
    if not check.valid:
        raise WrongPassword(WRONG_CURRENT)
    await security.throttle.succeeded(user.email, client)
    new_hash = await security.hasher.hash(new_password)
    # Only while the token or session asking is still good: a change or reset that
    # committed meanwhile has ended it.
    still_signed_in = and_(User.id == user.id, User.token_version == user.token_version)
    changed = await _set_password(session, still_signed_in, new_hash)
    if changed is None:
        raise Unauthorized(INVALID_TOKEN)
    # A link emailed before (to whoever could read that mailbox then) no longer resets
    # the password just chosen.
    await session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=func.now())
    )
    return changed


async def forget_expired_reset_links(database: Database) -> int:
    """Delete the reset links past their expiry (they can no longer work); how many went."""
    async with database.sessionmaker.begin() as session:
        expired = await session.execute(
            delete(PasswordReset).where(PasswordReset.expires_at < func.now())
        )
    return int(getattr(expired, "rowcount", 0))


async def _set_password(
    session: AsyncSession, which: ColumnElement[bool], password_hash: str
) -> User | None:
    """The user `which` selects with `password_hash` and a new token version (every
    token and session from before is worthless), or None when it selects nobody."""
    statement = (
        update(User)
        .where(which)
        .values(password_hash=password_hash, token_version=User.token_version + 1)
        .returning(User)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    return (await session.scalars(statement)).one_or_none()
