"""Payments: approved tickets paid in batches, exactly once.

Tickets gain the status `paid` and their payment, time and payer (all null for
existing tickets: nothing has been paid yet); `paid_totals` counts paid tickets per
month of payment for the dashboard, empty to begin with.

Revision ID: c394a05e43ea
Revises: 6c1003d293a5
Create Date: 2026-11-22 00:55:34.420990
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c394a05e43ea"
down_revision: str | None = "6c1003d293a5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not used in this transaction (the constraint below reads `status::text`), so
    # PostgreSQL allows adding them inside it.
    op.execute("ALTER TYPE ticket_status ADD VALUE IF NOT EXISTS 'paid'")
    op.execute("ALTER TYPE event_kind ADD VALUE IF NOT EXISTS 'ticket_paid'")
    op.create_table(
        "paid_totals",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("tickets", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_paid_totals")),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("reference", sa.String(length=140), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.BigInteger(), nullable=False),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.Column("total", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.CheckConstraint("tickets > 0", name=op.f("ck_payments_pays_something")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_payments_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    op.create_index(
        "uq_payments_reference", "payments", [sa.literal_column("lower(reference)")], unique=True
    )
    op.create_index(
        "ix_payments_recent",
        "payments",
        [sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    # Nullable, no default: adding them rewrites nothing.
    op.add_column("tickets", sa.Column("payment_id", sa.BigInteger(), nullable=True))
    op.add_column("tickets", sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tickets", sa.Column("paid_by_id", sa.BigInteger(), nullable=True))
    op.create_index(
        "ix_tickets_payment",
        "tickets",
        ["payment_id"],
        unique=False,
        postgresql_where=sa.text("payment_id IS NOT NULL"),
    )
    op.create_foreign_key(
        op.f("fk_tickets_paid_by_id_users"), "tickets", "users", ["paid_by_id"], ["id"]
    )
    op.create_foreign_key(
        op.f("fk_tickets_payment_id_payments"), "tickets", "payments", ["payment_id"], ["id"]
    )
    op.create_check_constraint(
        op.f("ck_tickets_paid_in_a_payment"),
        "tickets",
        "(status::text = 'paid') = (payment_id IS NOT NULL)"
        " AND (payment_id IS NULL) = (paid_at IS NULL)"
        " AND (payment_id IS NULL) = (paid_by_id IS NULL)",
    )


def downgrade() -> None:
    # Refused while anything is paid: the older version has no such status.
    op.execute("""
        DO $$ BEGIN
            IF EXISTS (SELECT 1 FROM tickets WHERE payment_id IS NOT NULL) THEN
                RAISE EXCEPTION 'tickets have been paid; downgrading would lose that';
            END IF;
        END $$
        """)
    op.drop_constraint(op.f("ck_tickets_paid_in_a_payment"), "tickets", type_="check")
    op.drop_constraint(op.f("fk_tickets_payment_id_payments"), "tickets", type_="foreignkey")
    op.drop_constraint(op.f("fk_tickets_paid_by_id_users"), "tickets", type_="foreignkey")
    op.drop_index("ix_tickets_payment", table_name="tickets")
    op.drop_column("tickets", "paid_by_id")
    op.drop_column("tickets", "paid_at")
    op.drop_column("tickets", "payment_id")
    op.drop_index("ix_payments_recent", table_name="payments")
    op.drop_table("payments")
    op.drop_table("paid_totals")
    # The enum values stay: PostgreSQL cannot drop them, and nothing holds them now.
