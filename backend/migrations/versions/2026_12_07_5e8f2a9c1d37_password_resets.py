"""Password resets: links to set a new password, emailed on request.

A new table, `password_resets` (a link's token kept only as its SHA-256), and the new
`mail_kind` 'password_reset'. Nothing existing changes: every account, token and
session stays valid.

Revision ID: 5e8f2a9c1d37
Revises: 9b1d4c7e2a60
Create Date: 2026-12-07 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e8f2a9c1d37"
down_revision: str | None = "9b1d4c7e2a60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not used in this transaction, so PostgreSQL allows adding it inside it.
    op.execute("ALTER TYPE mail_kind ADD VALUE IF NOT EXISTS 'password_reset'")
    op.create_table(
        "password_resets",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("ck_password_resets_expires_after_created")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_password_resets_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_resets_token_hash")),
    )
    op.create_index(
        op.f("ix_password_resets_user_id"), "password_resets", ["user_id"], unique=False
    )
    op.create_index(
        op.f("ix_password_resets_expires_at"), "password_resets", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_password_resets_expires_at"), table_name="password_resets")
    op.drop_index(op.f("ix_password_resets_user_id"), table_name="password_resets")
    op.drop_table("password_resets")
    # The previous version cannot read these emails; their links die with the table.
    op.execute("DELETE FROM outbox_emails WHERE kind = 'password_reset'")
    # The enum value stays: PostgreSQL cannot drop a value from an enum type.
