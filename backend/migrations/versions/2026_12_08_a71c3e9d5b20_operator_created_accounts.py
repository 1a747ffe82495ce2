"""Accounts the operator created: `users.operator_created`.

`contoso create-employer` marks the accounts it makes; with SSO_ONLY=true they alone may
still log in with a password (the way in when the identity provider is down). Every
existing account reads false, which changes nothing until SSO_ONLY is turned on.

Revision ID: a71c3e9d5b20
Revises: 5e8f2a9c1d37
Create Date: 2026-12-08 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a71c3e9d5b20"
down_revision: str | None = "5e8f2a9c1d37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column(
            "operator_created", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
    )


def downgrade() -> None:
    op.drop_column("users", "operator_created")
