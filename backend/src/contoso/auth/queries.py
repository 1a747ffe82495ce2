"""Who a token's bearer is: the one rule, used alone or carried by a busier query."""

from sqlalchemy import ColumnElement
from sqlalchemy.orm.util import AliasedClass

from contoso.auth.tokens import TokenClaims
from contoso.models import User


def holds_token(
    user: type[User] | AliasedClass[User], claims: TokenClaims
) -> list[ColumnElement[bool]]:
    """Conditions on `user` (the table or an alias) that make it the active bearer of
    a token with `claims`: the same account, not suspended, and no suspension since the
    token was issued (suspension bumps `token_version`)."""
    return [
        user.id == claims.user_id,
        user.token_version == claims.version,
        user.suspended.is_(False),
    ]
