"""People: employees and employers."""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Identity, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column, query_expression

from contoso.models.base import Base, pg_enum
from contoso.models.enums import Role


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # Emails are stored normalised, so a plain unique constraint is case-insensitive.
        CheckConstraint("email = lower(email)", name="email_normalised"),
        CheckConstraint("suspended = (suspended_at IS NOT NULL)", name="suspended_has_time"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    username: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(pg_enum(Role, "user_role"))
    suspended: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Emails about their own tickets (decisions, requests for changes, payments).
    email_notifications: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    # Bumped on suspension and on a new password: every token and browser session
    # started before it stops working for good.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Made by `contoso create-employer`: under SSO_ONLY, the only password logins left.
    operator_created: Mapped[bool] = mapped_column(default=False, server_default=text("false"))

    # Filled only by queries that ask for them (with_expression): see employees.queries.
    total_tickets: Mapped[int | None] = query_expression()
    pending_tickets: Mapped[int | None] = query_expression()

    @property
    def is_employer(self) -> bool:
        return self.role is Role.EMPLOYER
