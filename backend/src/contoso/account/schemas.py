from pydantic import BaseModel, ConfigDict, StrictBool

from contoso.auth.schemas import UserRead
from contoso.payments.schemas import Money


class MeUpdate(BaseModel):
    """Your own settings."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"email_notifications": False}]}
    )

    # Emails about your tickets: decisions, requests for changes, payments.
    email_notifications: StrictBool


class Me(UserRead):
    """The logged-in user, with what they are owed and were paid (see
    `payments.schemas.Reimbursement`)."""

    owed: Money
    paid_this_year: Money
    # Whether you are emailed about your tickets (`PATCH /users/me` to change it).
    email_notifications: bool
