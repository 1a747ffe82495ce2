"""Employee invitations: an invitation gains its role, can be revoked, and is emailed.

Invitations gain `role` (every existing one was for an employer, the server default) and
`revoked_at` (none yet). An email keeps at most one open invitation (neither used nor
revoked): where earlier versions issued several for one email, the newest stays open and
the older ones are revoked, as a resend revokes the code it replaces. The outbox may hold
an email for someone without an account (an invitation: `user_id` null), of the new
`mail_kind` 'invitation'.

Revision ID: 3f98d728e544
Revises: 7d2b9e41c5a8
Create Date: 2026-11-23 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "3f98d728e544"
down_revision: str | None = "7d2b9e41c5a8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "used_at IS NULL AND revoked_at IS NULL"


def upgrade() -> None:
    # Not used in this transaction, so PostgreSQL allows adding it inside it.
    op.execute("ALTER TYPE mail_kind ADD VALUE IF NOT EXISTS 'invitation'")
    op.alter_column("outbox_emails", "user_id", existing_type=sa.BigInteger(), nullable=True)

    op.add_column(
        "invitations",
        sa.Column(
            "role",
            postgresql.ENUM(name="user_role", create_type=False),
            server_default=sa.text("'employer'"),
            nullable=False,
        ),
    )
    op.add_column("invitations", sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(
        op.f("ck_invitations_used_or_revoked"),
        "invitations",
        "used_at IS NULL OR revoked_at IS NULL",
    )
    # An email's open invitations but its newest: revoked when the next one was made.
    op.execute("""
        UPDATE invitations SET revoked_at = superseded.next_made
        FROM (
            SELECT id, lead(created_at) OVER (PARTITION BY email ORDER BY created_at, id)
                       AS next_made
            FROM invitations WHERE used_at IS NULL AND revoked_at IS NULL
        ) AS superseded
        WHERE invitations.id = superseded.id AND superseded.next_made IS NOT NULL
        """)
    op.create_index(
        "uq_invitations_open_email",
        "invitations",
        ["email"],
        unique=True,
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    # The previous version takes every invitation for an employer's and knows no revoking:
    # open employee invitations and revoked ones expire now, so none becomes an employer's.
    op.execute("""
        UPDATE invitations SET expires_at = least(expires_at, now())
        WHERE used_at IS NULL AND (role = 'employee' OR revoked_at IS NOT NULL)
        """)
    op.drop_index("uq_invitations_open_email", table_name="invitations")
    op.drop_constraint(op.f("ck_invitations_used_or_revoked"), "invitations", type_="check")
    op.drop_column("invitations", "revoked_at")
    op.drop_column("invitations", "role")
    # Invitation emails have no user: the previous version cannot hold them (their codes
    # have just expired, or been used).
    op.execute("DELETE FROM outbox_emails WHERE user_id IS NULL")
    op.alter_column("outbox_emails", "user_id", existing_type=sa.BigInteger(), nullable=False)
    # The enum value stays: PostgreSQL cannot drop a value from an enum type.
