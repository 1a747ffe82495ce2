"""Invitations to register, as an employee or an employer."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contoso.models.base import Base, pg_enum
from contoso.models.enums import Role
from contoso.models.users import User

# Still usable, unless expired: neither used nor revoked.
OPEN_INVITATION = "used_at IS NULL AND revoked_at IS NULL"


class Invitation(Base):
    """An employer's invitation for one email to register with one role: single-use,
    expiring, revocable. Only a hash of the code is kept (its email derives the code
    again from a nonce and SECRET_KEY: `auth.invitation_codes`), so a resend issues a
    new code. An email has at most one open invitation."""

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_normalised"),
        CheckConstraint("(used_at IS NULL) = (used_by_id IS NULL)", name="used_by_someone"),
        CheckConstraint("used_at IS NULL OR revoked_at IS NULL", name="used_or_revoked"),
        Index("ix_invitations_recent", text("created_at DESC"), text("id DESC")),
        Index(
            "uq_invitations_open_email",
            "email",
            unique=True,
            postgresql_where=text(OPEN_INVITATION),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Invitations from before employees could be invited were all for employers.
    role: Mapped[Role] = mapped_column(
        pg_enum(Role, "user_role"), server_default=text("'employer'")
    )
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    invited_by: Mapped[User] = relationship(foreign_keys=[invited_by_id], lazy="raise")
    used_by: Mapped[User | None] = relationship(foreign_keys=[used_by_id], lazy="raise")
