"""Who a token's bearer is: the one statement that checks a token against the database."""

from typing import Any

from sqlalchemy import BigInteger, Select, bindparam, select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession

from contoso.auth.tokens import TokenClaims
from contoso.models import Role, User

_TOKEN_USER = bindparam("token_user_id", type_=BigInteger)
_TOKEN_VERSION = bindparam("token_version", type_=BigInteger)

# The active bearer of the token: the same account, not suspended, and no suspension or
# new password since the token was issued (either moves `token_version` on).
_TOKEN_BEARER: Select[Any] = select(*User.__table__.columns).where(
    User.id == _TOKEN_USER, User.token_version == _TOKEN_VERSION, User.suspended.is_(False)
)
# Compiled once for asyncpg ($1 placeholders; the dialect's constructor is untyped).
_COMPILED = _TOKEN_BEARER.compile(dialect=asyncpg_dialect())  # type: ignore[no-untyped-call]
_SQL = str(_COMPILED)
_ORDER = _COMPILED.positiontup or []


async def token_bearer(session: AsyncSession, claims: TokenClaims) -> dict[str, Any] | None:
    """The columns of the user `claims` belong to while the token is good, else None.

    Nearly every API request runs it first, so it runs on the request's connection by
    asyncpg itself (a prepared statement, cached per connection): through SQLAlchemy's
    execution it cost five times as much of the worker's time.
    """
    pooled = await (await session.connection()).get_raw_connection()
    asyncpg_connection: Any = pooled.driver_connection
    values = {_TOKEN_USER.key: claims.user_id, _TOKEN_VERSION.key: claims.version}
    row = await asyncpg_connection.fetchrow(_SQL, *(values[key] for key in _ORDER))
    if row is None:
        return None
    # asyncpg reads an enum type as its text; the ORM would give the member.
    return dict(row) | {"role": Role(row["role"])}
