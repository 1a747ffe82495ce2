from typing import Annotated

from fastapi import APIRouter, Path, Query

from contoso.auth.dependencies import CurrentUser, employers_only
from contoso.database import SessionDep
from contoso.employees import service
from contoso.employees.schemas import EmployeePage, EmployeeRead, EmployeeState
from contoso.errors import error_responses
from contoso.validation import MAX_RECORD_ID

# Every route is for employers: refused before anything else is read.
router = APIRouter(
    prefix="/employees",
    tags=["employees"],
    responses=error_responses(401, 403),
    dependencies=[employers_only("manage employees")],
)

EmployeeId = Annotated[int, Path(ge=1, le=MAX_RECORD_ID)]
ANSWERS = error_responses(404, 409)


@router.get("")
async def list_employees(
    session: SessionDep,
    user: CurrentUser,
    state: EmployeeState | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> EmployeePage:
    """Employees with their suspension state and ticket counts (employers only)."""
    items, total = await service.list_employees(
        session, user, state=state, limit=limit, offset=offset
    )
    return EmployeePage(items=items, total=total, limit=limit, offset=offset)


@router.post("/{employee_id}/suspend", responses=ANSWERS)
async def suspend_employee(
    employee_id: EmployeeId, session: SessionDep, user: CurrentUser
) -> EmployeeRead:
    """Suspend an employee: they cannot log in and their tickets are hidden (kept)."""
    return await service.set_employee_suspended(session, user, employee_id, suspend=True)


@router.post("/{employee_id}/reactivate", responses=ANSWERS)
async def reactivate_employee(
    employee_id: EmployeeId, session: SessionDep, user: CurrentUser
) -> EmployeeRead:
    """Reactivate a suspended employee: their tickets reappear."""
    return await service.set_employee_suspended(session, user, employee_id, suspend=False)
