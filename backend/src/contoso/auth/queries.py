"""Who a token's bearer is: the statements that check a token against the database."""

from sqlalchemy import BigInteger, bindparam, select

from contoso.database import DriverStatement
from contoso.models import User

_TOKEN_USER = bindparam("user_id", type_=BigInteger)

# The active bearer of the token: the same account, not suspended, and no suspension or
# new password since the token was issued (either moves `token_version` on). Nearly every
# API request runs it first, so asyncpg runs it (`Driver`), as built here once. It reads
# what requests act on and show of their user, and the password hash a password change
# checks (how the account was made is the login's business).
TOKEN_BEARER = DriverStatement.of(
    select(
        User.id,
        User.email,
        User.username,
        User.password_hash,
        User.role,
        User.suspended,
        User.suspended_at,
        User.email_notifications,
        User.token_version,
        User.created_at,
    ).where(
        User.id == _TOKEN_USER,
        User.token_version == bindparam("version", type_=BigInteger),
        User.suspended.is_(False),
    )
)
# Whether the token's account is suspended, to say so when `TOKEN_BEARER` finds no one.
SUSPENDED = DriverStatement.of(select(User.suspended).where(User.id == _TOKEN_USER))
