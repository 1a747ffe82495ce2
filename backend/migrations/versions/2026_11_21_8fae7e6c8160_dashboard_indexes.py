"""Indexes that let the dashboard answer from index-only scans at a million tickets.

Revision ID: 8fae7e6c8160
Revises: ee5fa215cc81
Create Date: 2026-11-21 07:17:29.867258
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8fae7e6c8160"
down_revision: str | None = "ee5fa215cc81"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_tickets_pending_owner",
        "tickets",
        ["owner_id"],
        postgresql_include=["amount"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_tickets_decided_at",
        "tickets",
        ["decided_at"],
        postgresql_include=["status", "amount", "owner_id"],
        postgresql_where=sa.text("decided_at IS NOT NULL"),
    )
    op.create_index(
        "ix_tickets_spent_on",
        "tickets",
        ["spent_on"],
        postgresql_include=["status", "amount", "owner_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_spent_on", table_name="tickets")
    op.drop_index("ix_tickets_decided_at", table_name="tickets")
    op.drop_index("ix_tickets_pending_owner", table_name="tickets")
