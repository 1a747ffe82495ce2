"""Password reset links: single use, expiring, and stored only as a hash."""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Identity, String, func
from sqlalchemy.orm import Mapped, mapped_column

from contoso.models.base import Base


class PasswordReset(Base):
    """A link to set a new password, emailed to its user on request. Only the SHA-256
    of its token is kept (the email derives the token from a nonce and SECRET_KEY:
    `auth.reset_tokens`). It works once (`used_at`), until `expires_at`, and only while
    it is its user's newest: asking again makes the older links worthless."""

    __tablename__ = "password_resets"
    __table_args__ = (CheckConstraint("expires_at > created_at", name="expires_after_created"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # Indexed: the newest link of a user is what decides whether a token still works.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Indexed: expired links are swept away (`account.service.forget_expired_reset_links`).
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
