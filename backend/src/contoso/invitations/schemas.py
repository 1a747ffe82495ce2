"""Invitations as the API and the console read and write them."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from contoso.auth.schemas import Email
from contoso.models import Role
from contoso.validation import StrictInput


class InvitationCreate(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "lee@example.com", "role": "employee"}]}
    )

    email: Email
    # Employer when left out: invitations were for employers before employees could be
    # invited, and clients written then send only the email.
    role: Role = Role.EMPLOYER


class InvitationRead(BaseModel):
    """A new invitation. The code is shown this once (and emailed): only its hash is kept."""

    code: str
    email: str
    role: Role
    expires_at: datetime


class InvitationState(StrEnum):
    """Where an invitation is: waiting for its code, used, past its expiry, or revoked."""

    PENDING = "pending"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class InviteOutcome(StrEnum):
    """What inviting one address of a list did."""

    INVITED = "invited"
    ALREADY_REGISTERED = "already_registered"
    INVALID = "invalid"
    ALREADY_INVITED = "already_invited"

    @property
    def label(self) -> str:
        return {
            "invited": "invited",
            "already_registered": "already registered",
            "invalid": "invalid",
            "already_invited": "already invited (resend instead)",
        }[self]


@dataclass(frozen=True)
class InvitedAddress:
    """One address of a list as typed, what happened to it, and why, in words."""

    address: str
    outcome: InviteOutcome
    detail: str


class InvitationSkip(StrEnum):
    """Why a resend or revocation left a selected invitation alone."""

    USED = "used"
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        return f"already {self.value}"


@dataclass
class InvitationsOutcome:
    changed: list[int] = field(default_factory=list)
    skipped: dict[int, InvitationSkip] = field(default_factory=dict)
