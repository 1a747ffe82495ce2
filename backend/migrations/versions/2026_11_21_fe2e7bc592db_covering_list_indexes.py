"""The newest-first list indexes carry owner_id, so deep pages read only the index.

Revision ID: fe2e7bc592db
Revises: 8fae7e6c8160
Create Date: 2026-11-21 07:43:34.802562
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "fe2e7bc592db"
down_revision: str | None = "8fae7e6c8160"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


LISTS = {"ix_tickets_recent": [], "ix_tickets_status_recent": ["status"]}


def _recreate(include: list[str]) -> None:
    for name, leading in LISTS.items():
        op.drop_index(name, table_name="tickets")
        op.create_index(
            name,
            "tickets",
            [*leading, sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
            postgresql_include=include,
        )


def upgrade() -> None:
    _recreate(["owner_id"])


def downgrade() -> None:
    _recreate([])
