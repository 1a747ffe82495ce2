"""Categories with their policy, receipts, policy flags and idempotent filing.

Every existing ticket goes into a new default category, "General", which has no
limits; existing tickets that share their owner, date and amount with another
non-denied ticket are flagged as possible duplicates of it, as new ones will be.

Revision ID: 6c1003d293a5
Revises: fdc3663cbb6a
Create Date: 2026-11-22 00:05:14.832623
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "6c1003d293a5"
down_revision: str | None = "fdc3663cbb6a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAGS = "ARRAY['over_limit', 'receipt_missing', 'possible_duplicate']::text[]"


def upgrade() -> None:
    # Not used in this transaction, so PostgreSQL allows adding them inside it.
    for kind in ("ticket_receipt_added", "ticket_receipt_removed"):
        op.execute(f"ALTER TYPE event_kind ADD VALUE IF NOT EXISTS '{kind}'")
    op.create_table(
        "categories",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("max_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("receipt_required_above", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("active OR NOT is_default", name=op.f("ck_categories_default_active")),
        sa.CheckConstraint("max_amount > 0", name=op.f("ck_categories_max_amount_positive")),
        sa.CheckConstraint(
            "receipt_required_above >= 0",
            name=op.f("ck_categories_receipt_threshold_not_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
    )
    op.create_index(
        "uq_categories_default",
        "categories",
        ["is_default"],
        unique=True,
        postgresql_where="is_default",
    )
    op.create_index(
        "uq_categories_name", "categories", [sa.literal_column("lower(name)")], unique=True
    )
    general = op.get_bind().scalar(sa.text("""
        INSERT INTO categories (name, description, is_default)
        VALUES ('General', 'Anything without a more specific category.', true)
        RETURNING id
        """))
    # A constant default fills every existing row without rewriting the table; dropped
    # at once, since new tickets name their category (the service picks the default).
    op.add_column(
        "tickets",
        sa.Column(
            "category_id",
            sa.BigInteger(),
            server_default=sa.text(str(int(general))),
            nullable=False,
        ),
    )
    op.alter_column("tickets", "category_id", server_default=None)
    op.create_foreign_key(
        op.f("fk_tickets_category_id_categories"), "tickets", "categories", ["category_id"], ["id"]
    )
    op.create_index("ix_tickets_category", "tickets", ["category_id"], unique=False)
    op.add_column(
        "tickets",
        sa.Column(
            "flags", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
    )
    op.create_check_constraint(op.f("ck_tickets_known_flags"), "tickets", f"flags <@ {FLAGS}")
    op.add_column(
        "tickets",
        sa.Column(
            "duplicate_of",
            postgresql.ARRAY(sa.BigInteger()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )
    op.create_index(
        "ix_tickets_owner_purchase",
        "tickets",
        ["owner_id", "spent_on", "amount"],
        unique=False,
        postgresql_where=sa.text("status <> 'denied'"),
    )
    # The same rule as `contoso.flags` applies to new tickets (no receipts exist yet).
    op.execute("""
        UPDATE tickets t
        SET duplicate_of = d.ids, flags = ARRAY['possible_duplicate']
        FROM (
            SELECT t1.id, array_agg(t2.id ORDER BY t2.id) AS ids
            FROM tickets t1
            JOIN tickets t2
              ON t2.owner_id = t1.owner_id AND t2.spent_on = t1.spent_on
             AND t2.amount = t1.amount AND t2.id <> t1.id AND t2.status <> 'denied'
            GROUP BY t1.id
        ) d
        WHERE d.id = t.id
        """)
    op.create_index(
        "ix_tickets_flagged_recent",
        "tickets",
        [sa.literal_column("created_at DESC"), sa.literal_column("id DESC")],
        unique=False,
        postgresql_include=["owner_id"],
        postgresql_where=sa.text("flags <> '{}'"),
    )
    op.create_table(
        "receipts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "uploaded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("size > 0", name=op.f("ck_receipts_size_positive")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_receipts_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
    )
    op.create_index("ix_receipts_sha256", "receipts", ["sha256"], unique=False)
    op.create_index("ix_receipts_ticket", "receipts", ["ticket_id", "id"], unique=False)
    op.create_table(
        "receipt_chunks",
        sa.Column("receipt_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["receipt_id"],
            ["receipts.id"],
            name=op.f("fk_receipt_chunks_receipt_id_receipts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("receipt_id", "seq", name=op.f("pk_receipt_chunks")),
    )
    # Receipts are compressed already (JPEG, PNG, WebP, PDF streams): stored out of line
    # without PostgreSQL trying, and failing, to compress them again.
    op.execute("ALTER TABLE receipt_chunks ALTER COLUMN data SET STORAGE EXTERNAL")
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_idempotency_keys_ticket_id_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_idempotency_keys_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index(
        "ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("receipt_chunks")
    op.drop_table("receipts")
    op.drop_index("ix_tickets_flagged_recent", table_name="tickets")
    op.drop_index("ix_tickets_owner_purchase", table_name="tickets")
    op.drop_column("tickets", "duplicate_of")
    op.drop_column("tickets", "flags")
    op.drop_column("tickets", "category_id")
    op.drop_table("categories")
    # The history may hold receipt events; PostgreSQL cannot drop enum values in use,
    # and the older code never writes them, so the two values stay.
