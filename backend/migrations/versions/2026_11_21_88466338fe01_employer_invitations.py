"""Employer invitations: single-use, expiring codes an employer gives a future employer.

A new table only: existing users, tickets and events are untouched.

Revision ID: 88466338fe01
Revises: fe2e7bc592db
Create Date: 2026-11-21 22:04:10.286091
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "88466338fe01"
down_revision: str | None = "fe2e7bc592db"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invitations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "(used_at IS NULL) = (used_by_id IS NULL)", name=op.f("ck_invitations_used_by_someone")
        ),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_invitations_email_normalised")),
        sa.ForeignKeyConstraint(
            ["invited_by_id"], ["users.id"], name=op.f("fk_invitations_invited_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["used_by_id"], ["users.id"], name=op.f("fk_invitations_used_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_invitations_code_hash")),
    )
    op.create_index(
        "ix_invitations_recent",
        "invitations",
        [sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_invitations_recent", table_name="invitations")
    op.drop_table("invitations")
