from typing import Annotated

from fastapi import APIRouter, Path, status

from contoso.auth.dependencies import CurrentUser, employers_only
from contoso.categories import service
from contoso.categories.schemas import CategoryCreate, CategoryRead, CategoryUpdate
from contoso.database import SessionDep
from contoso.errors import error_responses
from contoso.validation import MAX_RECORD_ID

router = APIRouter(prefix="/categories", tags=["categories"], responses=error_responses(401, 403))

CategoryId = Annotated[int, Path(ge=1, le=MAX_RECORD_ID)]
MANAGING = [employers_only("manage categories")]


@router.get("")
async def list_categories(
    session: SessionDep, user: CurrentUser, include_inactive: bool = False
) -> list[CategoryRead]:
    """The active categories, by name: what a ticket can be filed under. Employers may
    ask for the inactive ones too (listed after them)."""
    return await service.list_categories(session, user, include_inactive=include_inactive)


@router.post(
    "", status_code=status.HTTP_201_CREATED, responses=error_responses(409), dependencies=MANAGING
)
async def create_category(
    body: CategoryCreate, session: SessionDep, user: CurrentUser
) -> CategoryRead:
    """Add a category with its policy (employers only); names are unique ignoring capitals."""
    return await service.create_category(session, user, body)


@router.get("/{category_id}", responses=error_responses(404))
async def get_category(
    category_id: CategoryId, session: SessionDep, user: CurrentUser
) -> CategoryRead:
    return await service.get_category(session, user, category_id)


@router.patch("/{category_id}", responses=error_responses(404, 409), dependencies=MANAGING)
async def update_category(
    category_id: CategoryId, body: CategoryUpdate, session: SessionDep, user: CurrentUser
) -> CategoryRead:
    """Change a category (employers only). Deactivate it with `"active": false`: it is
    kept for the tickets filed under it, but no new ticket can use it. A new limit
    re-flags its pending tickets."""
    return await service.update_category(session, user, category_id, body)
