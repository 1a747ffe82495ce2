"""Who a token's bearer is: the one statement that checks a token against the database."""

from typing import Any

from sqlalchemy import BigInteger, Select, bindparam, select

from contoso.auth.tokens import TokenClaims
from contoso.models import User

_TOKEN_USER = bindparam("token_user_id", type_=BigInteger)
_TOKEN_VERSION = bindparam("token_version", type_=BigInteger)

# The active bearer of the token whose `token_parameters` it is executed with: the same
# account, not suspended, and no suspension since the token was issued (suspension bumps
# `token_version`). Most API requests run it, so it is built once and reads the columns
# past the ORM's identity map.
TOKEN_BEARER: Select[Any] = select(*User.__table__.columns).where(
    User.id == _TOKEN_USER, User.token_version == _TOKEN_VERSION, User.suspended.is_(False)
)


def token_parameters(claims: TokenClaims) -> dict[str, Any]:
    """The parameters of `TOKEN_BEARER` for these claims."""
    return {_TOKEN_USER.key: claims.user_id, _TOKEN_VERSION.key: claims.version}
