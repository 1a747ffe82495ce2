"""The dashboard's running totals: pending tickets per employee and month, visible decided
tickets per month and decision; filled from the existing tickets.

From here on the ticket and employee services keep them in the transactions that file,
edit, decide, suspend and reactivate. Stop every writer of an older version before
upgrading: it would change tickets without their totals.

Revision ID: fdc3663cbb6a
Revises: 88466338fe01
Create Date: 2026-11-21 22:35:48.705985
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "fdc3663cbb6a"
down_revision: str | None = "88466338fe01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "decided_totals",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column(
            "status",
            # The tickets' own enum type, which already exists.
            postgresql.ENUM(name="ticket_status", create_type=False),
            nullable=False,
        ),
        sa.Column("spent_tickets", sa.BigInteger(), nullable=False),
        sa.Column("spent_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("decided_tickets", sa.BigInteger(), nullable=False),
        sa.Column("decided_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.CheckConstraint("status <> 'pending'", name=op.f("ck_decided_totals_decided")),
        sa.PrimaryKeyConstraint("month", "status", name=op.f("pk_decided_totals")),
    )
    op.create_table(
        "pending_totals",
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("tickets", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_pending_totals_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("owner_id", "month", name=op.f("pk_pending_totals")),
    )
    # Tickets and suspensions hold still while they are counted (reads go on).
    op.execute("LOCK TABLE tickets, users IN SHARE MODE")
    # Every employee's, hidden ones included: readers join the owner to hide them.
    op.execute("""
        INSERT INTO pending_totals (owner_id, month, tickets, amount)
        SELECT t.owner_id, date_trunc('month', t.spent_on::timestamp)::date,
               count(*), sum(t.amount)
        FROM tickets t
        WHERE t.status = 'pending'
        GROUP BY 1, 2
        """)
    # Visible tickets only, counted by month of purchase and month of decision (UTC), in
    # one pass over the table.
    op.execute("""
        WITH counted AS (
            SELECT t.status,
                   date_trunc('month', t.spent_on::timestamp)::date AS spent_month,
                   date_trunc('month', t.decided_at AT TIME ZONE 'UTC')::date AS decided_month,
                   count(*) AS tickets, sum(t.amount) AS amount
            FROM tickets t JOIN users u ON u.id = t.owner_id
            WHERE t.status <> 'pending' AND NOT u.suspended
            GROUP BY 1, 2, 3
        ), by_month AS (
            SELECT status, spent_month AS month, tickets AS spent_tickets,
                   amount AS spent_amount, 0 AS decided_tickets, 0 AS decided_amount
            FROM counted
            UNION ALL
            SELECT status, decided_month, 0, 0, tickets, amount
            FROM counted
        )
        INSERT INTO decided_totals
            (month, status, spent_tickets, spent_amount, decided_tickets, decided_amount)
        SELECT month, status, sum(spent_tickets), sum(spent_amount),
               sum(decided_tickets), sum(decided_amount)
        FROM by_month
        GROUP BY month, status
        """)


def downgrade() -> None:
    op.drop_table("pending_totals")
    op.drop_table("decided_totals")
