from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from contoso.auth.schemas import PASSWORD_MAX, Email, NewPassword, UserRead
from contoso.payments.schemas import Money
from contoso.validation import StrictInput

# How long an emailed reset link works.
RESET_LIFETIME = timedelta(hours=1)
RESET_LIFETIME_WORDS = "1 hour"
RESET_REQUESTED = (
    "If an account has this address, we have emailed it a link to choose a new password; "
    f"the link works once, for {RESET_LIFETIME_WORDS}."
)
# Tokens are 43 characters; longer text is no token of ours.
TOKEN_MAX = 256


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


class PasswordResetRequest(StrictInput):
    """Ask for a link to set a new password, emailed to this address."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "mei@example.com"}]})

    email: Email


class PasswordResetRequested(BaseModel):
    """The one answer to every reset request, whether the address has an account or not."""

    message: str = RESET_REQUESTED


class PasswordResetConfirm(StrictInput):
    """Set a new password with the token of an emailed reset link."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"token": "the token from the link in the email", "password": "a new passphrase"}
            ]
        }
    )

    # Any text: a token that is not one of ours is refused as a used link is (400).
    token: Annotated[
        str,
        Field(
            max_length=TOKEN_MAX,
            description=(
                "The `token` of the link in the reset email. Refused (400, saying to ask "
                "for a new link) when it is not one the server issued, was used, has "
                f"expired ({RESET_LIFETIME_WORDS}), or a newer request replaced it."
            ),
        ),
    ]
    password: NewPassword


class PasswordChange(StrictInput):
    """Change your own password, knowing the current one."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"current_password": "a long passphrase", "new_password": "a new passphrase"}
            ]
        }
    )

    # Not length-checked: a wrong password of any size is just wrong.
    current_password: Annotated[str, Field(max_length=PASSWORD_MAX)]
    new_password: NewPassword
