from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class EmployeeState(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class EmployeeSkip(StrEnum):
    """Why a bulk suspension or reactivation left an employee alone."""

    NOT_FOUND = "not_found"
    ALREADY_SUSPENDED = "already_suspended"
    ALREADY_ACTIVE = "already_active"

    @property
    def label(self) -> str:
        return {
            "not_found": "not found",
            "already_suspended": "already suspended",
            "already_active": "already active",
        }[self]


class EmployeeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    username: str
    suspended: bool
    suspended_at: datetime | None
    created_at: datetime
    pending_tickets: int
    total_tickets: int


class EmployeePage(BaseModel):
    items: list[EmployeeRead]
    total: int
    limit: int
    offset: int
