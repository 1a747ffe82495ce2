from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class EmployeeState(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


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
