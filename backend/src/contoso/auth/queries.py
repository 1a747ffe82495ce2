"""Who a token's bearer is: the one rule, used alone or carried by a busier query."""

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, bindparam
from sqlalchemy.orm.util import AliasedClass

from contoso.auth.tokens import TokenClaims
from contoso.models import User

# The rule is written once with named parameters, so the statements that carry it can
# be built once too; `token_parameters` supplies the values at execution.
_TOKEN_USER = bindparam("token_user_id", type_=BigInteger)
_TOKEN_VERSION = bindparam("token_version", type_=BigInteger)


def holds_token(user: type[User] | AliasedClass[User]) -> list[ColumnElement[bool]]:
    """Conditions on `user` (the table or an alias) that make it the active bearer of
    the token whose `token_parameters` the statement is executed with: the same account,
    not suspended, and no suspension since the token was issued (suspension bumps
    `token_version`)."""
    return [
        user.id == _TOKEN_USER,
        user.token_version == _TOKEN_VERSION,
        user.suspended.is_(False),
    ]


def token_parameters(claims: TokenClaims) -> dict[str, Any]:
    """The parameters of a statement that carries `holds_token`, for these claims."""
    return {_TOKEN_USER.key: claims.user_id, _TOKEN_VERSION.key: claims.version}
