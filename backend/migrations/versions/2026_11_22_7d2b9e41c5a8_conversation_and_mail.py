"""Talking about a ticket: changes requested, comments, and an email outbox.

Tickets gain the status `changes_requested` and the latest request (who, when, the
note): none for existing tickets. `ticket_comments` is append-only, as the history is.
`outbox_emails` holds the emails to send, written with the change they tell about.
Users gain `email_notifications` (on, for everyone there); the company remembers when
the employers' digest last went out (never).

Revision ID: 7d2b9e41c5a8
Revises: 3f0e6a1b2c4d
Create Date: 2026-11-22 03:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7d2b9e41c5a8"
down_revision: str | None = "3f0e6a1b2c4d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMMENTS_APPEND_ONLY = """
CREATE FUNCTION ticket_comments_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'comments on tickets are append-only';
END
$$
"""
MAIL_KINDS = (
    "tickets_approved",
    "tickets_denied",
    "changes_requested",
    "tickets_paid",
    "ticket_commented",
    "digest",
)


def upgrade() -> None:
    # Not used in this transaction (the constraints below read `status::text`), so
    # PostgreSQL allows adding them inside it.
    op.execute("ALTER TYPE ticket_status ADD VALUE IF NOT EXISTS 'changes_requested'")
    for kind in ("ticket_changes_requested", "ticket_resubmitted", "ticket_commented"):
        op.execute(f"ALTER TYPE event_kind ADD VALUE IF NOT EXISTS '{kind}'")

    op.add_column(
        "tickets", sa.Column("changes_requested_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("tickets", sa.Column("changes_requested_by_id", sa.BigInteger(), nullable=True))
    op.add_column("tickets", sa.Column("changes_note", sa.Text(), nullable=True))
    op.create_foreign_key(
        op.f("fk_tickets_changes_requested_by_id_users"),
        "tickets",
        "users",
        ["changes_requested_by_id"],
        ["id"],
    )
    op.drop_constraint(op.f("ck_tickets_decided_has_time"), "tickets", type_="check")
    op.create_check_constraint(
        op.f("ck_tickets_decided_has_time"),
        "tickets",
        "(status::text IN ('pending', 'changes_requested')) = (decided_at IS NULL)",
    )
    op.create_check_constraint(
        op.f("ck_tickets_changes_requested_with_note"),
        "tickets",
        "(changes_requested_at IS NULL) = (changes_requested_by_id IS NULL)"
        " AND (changes_requested_at IS NULL) = (changes_note IS NULL)"
        " AND (status::text <> 'changes_requested' OR changes_requested_at IS NOT NULL)",
    )

    op.add_column(
        "users",
        sa.Column(
            "email_notifications", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
    )
    op.add_column("company", sa.Column("last_digest_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "ticket_comments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_ticket_comments_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_comments_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_comments")),
    )
    op.create_index("ix_ticket_comments_ticket", "ticket_comments", ["ticket_id", "id"])
    op.execute(COMMENTS_APPEND_ONLY)
    op.execute(
        "CREATE TRIGGER ticket_comments_append_only BEFORE UPDATE OR DELETE ON ticket_comments "
        "FOR EACH ROW EXECUTE FUNCTION ticket_comments_append_only()"
    )

    mail_kind = postgresql.ENUM(*MAIL_KINDS, name="mail_kind")
    mail_kind.create(op.get_bind())
    op.create_table(
        "outbox_emails",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", postgresql.ENUM(name="mail_kind", create_type=False), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("first_refused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_outbox_emails_attempts_not_negative")),
        sa.CheckConstraint(
            "sent_at IS NULL OR failed_at IS NULL", name=op.f("ck_outbox_emails_sent_or_failed")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_outbox_emails_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_emails")),
    )
    op.create_index(
        "ix_outbox_emails_due",
        "outbox_emails",
        ["next_attempt_at", "id"],
        postgresql_where=sa.text("sent_at IS NULL AND failed_at IS NULL"),
    )


def downgrade() -> None:
    # A ticket sent back for changes has no state to go back to before this revision.
    waiting = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM tickets WHERE status::text = 'changes_requested'")
    )
    if waiting:
        tickets = "1 ticket is" if waiting == 1 else f"{waiting} tickets are"
        raise RuntimeError(
            f"{tickets} sent back for changes; downgrading would lose that. Let the "
            "employees resubmit them (or restore a backup taken before the upgrade)."
        )
    op.drop_index("ix_outbox_emails_due", table_name="outbox_emails")
    op.drop_table("outbox_emails")
    postgresql.ENUM(name="mail_kind").drop(op.get_bind())
    op.execute("DROP TRIGGER ticket_comments_append_only ON ticket_comments")
    op.execute("DROP FUNCTION ticket_comments_append_only()")
    op.drop_index("ix_ticket_comments_ticket", table_name="ticket_comments")
    op.drop_table("ticket_comments")
    op.drop_column("company", "last_digest_at")
    op.drop_column("users", "email_notifications")
    op.drop_constraint(op.f("ck_tickets_changes_requested_with_note"), "tickets", type_="check")
    op.drop_constraint(op.f("ck_tickets_decided_has_time"), "tickets", type_="check")
    op.create_check_constraint(
        op.f("ck_tickets_decided_has_time"),
        "tickets",
        "(status = 'pending') = (decided_at IS NULL)",
    )
    op.drop_constraint(
        op.f("fk_tickets_changes_requested_by_id_users"), "tickets", type_="foreignkey"
    )
    op.drop_column("tickets", "changes_note")
    op.drop_column("tickets", "changes_requested_by_id")
    op.drop_column("tickets", "changes_requested_at")
    # The enum values stay: PostgreSQL cannot drop a value from an enum type.
