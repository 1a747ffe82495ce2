"""Ticket indexes kept to what reads them.

The dashboard reads its running totals (`pending_totals`, `decided_totals`,
`paid_totals`) since they were added, so the indexes built for its index-only scans over
the tickets went unread (the benchmark's `pg_stat_user_indexes` report: no scans):
`ix_tickets_decided_at` goes; `ix_tickets_spent_on` stays for the console's sort by
purchase date, without the columns it carried for the dashboard; and
`ix_tickets_pending_owner` stays for the employees' pending counts and the employers'
digest, without the `amount` nothing sums from it any more. Indexes only: no data
changes, and the downgrade rebuilds them as they were.

Revision ID: 9b1d4c7e2a60
Revises: 3f98d728e544
Create Date: 2026-12-07 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9b1d4c7e2a60"
down_revision: str | None = "3f98d728e544"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.drop_index("ix_tickets_decided_at", table_name="tickets")
    op.drop_index("ix_tickets_spent_on", table_name="tickets")
    op.create_index("ix_tickets_spent_on", "tickets", ["spent_on"])
    op.drop_index("ix_tickets_pending_owner", table_name="tickets")
    op.create_index("ix_tickets_pending_owner", "tickets", ["owner_id"], postgresql_where=PENDING)


def downgrade() -> None:
    op.drop_index("ix_tickets_pending_owner", table_name="tickets")
    op.create_index(
        "ix_tickets_pending_owner",
        "tickets",
        ["owner_id"],
        postgresql_include=["amount"],
        postgresql_where=PENDING,
    )
    op.drop_index("ix_tickets_spent_on", table_name="tickets")
    op.create_index(
        "ix_tickets_spent_on",
        "tickets",
        ["spent_on"],
        postgresql_include=["status", "amount", "owner_id"],
    )
    op.create_index(
        "ix_tickets_decided_at",
        "tickets",
        ["decided_at"],
        postgresql_include=["status", "amount", "owner_id"],
        postgresql_where=sa.text("decided_at IS NOT NULL"),
    )
