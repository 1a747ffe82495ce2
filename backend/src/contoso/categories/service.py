"""The category rules: who may see and change them, and what a ticket may be filed under."""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Executable, Result, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contoso import flags
from contoso.auth.service import ensure_employer
from contoso.categories.schemas import CategoryCreate, CategoryRead, CategoryUpdate
from contoso.currencies.service import company_currency, company_money
from contoso.errors import Conflict, InvalidField, NotFound
from contoso.models import Category, User

# Changing these re-flags the category's pending tickets.
POLICY_FIELDS = {"max_amount", "receipt_required_above"}


async def list_categories(
    session: AsyncSession, viewer: User, *, include_inactive: bool = False
) -> list[CategoryRead]:
    """The active categories by name (what a ticket can be filed under); with
    `include_inactive`, employers also get the retired ones, after them."""
    statement = select(Category).order_by(Category.active.desc(), func.lower(Category.name))
    if not (include_inactive and viewer.is_employer):
        statement = statement.where(Category.active)
    return [CategoryRead.model_validate(c) for c in (await session.scalars(statement)).all()]


async def get_category(session: AsyncSession, viewer: User, category_id: int) -> CategoryRead:
    """A category: active ones for anyone, retired ones for employers only."""
    category = await session.get(Category, category_id)
    if category is None or not (category.active or viewer.is_employer):
        raise NotFound(f"Category {category_id} not found.")
    return CategoryRead.model_validate(category)


async def create_category(
    session: AsyncSession, employer: User, data: CategoryCreate
) -> CategoryRead:
    ensure_employer(employer, "manage categories")
    limits = await _in_company_currency(session, data.model_dump(include=POLICY_FIELDS))
    created = insert(Category).values(data.model_dump() | limits).returning(Category)
    category = (await _unique_name(session, created, data.name)).scalar_one()
    return CategoryRead.model_validate(category)


async def update_category(
    session: AsyncSession, employer: User, category_id: int, data: CategoryUpdate
) -> CategoryRead:
    """Change a category; a new limit re-flags its pending tickets. The default
    category cannot be deactivated (tickets filed without one go there)."""
    ensure_employer(employer, "manage categories")
    # FOR NO KEY UPDATE, not FOR UPDATE: a filing holds its owner's row and then takes
    # KEY SHARE on the category (the foreign key), while a new limit holds the category
    # and then the owners (`refresh_policy`); FOR UPDATE deadlocked them.
    category = await session.get(Category, category_id, with_for_update={"key_share": True})
    if category is None:
        raise NotFound(f"Category {category_id} not found.")
    wanted = data.model_dump(exclude_unset=True)
    wanted |= await _in_company_currency(
        session, data.model_dump(include=POLICY_FIELDS & wanted.keys())
    )
    if wanted.get("active") is False and category.is_default:
        raise Conflict(
            f"“{category.name}” is the default category, for tickets filed without one; "
            "it cannot be deactivated."
        )
    changed = {name for name, value in wanted.items() if getattr(category, name) != value}
    if not changed:
        return CategoryRead.model_validate(category)
    edited = (
        update(Category)
        .where(Category.id == category_id)
        .values({name: wanted[name] for name in changed} | {"updated_at": func.now()})
        .returning(Category)
        .execution_options(populate_existing=True)
    )
    category = (await _unique_name(session, edited, wanted.get("name", category.name))).scalar_one()
    if changed & POLICY_FIELDS:
        await flags.refresh_policy(session, category_id)
    return CategoryRead.model_validate(category)


async def _in_company_currency(
    session: AsyncSession, limits: dict[str, Decimal | None]
) -> dict[str, Decimal | None]:
    """The policy limits, written with the company currency's decimals; InvalidField
    when one has more (1.5 in a JPY company)."""
    if not any(value is not None for value in limits.values()):
        return limits
    company = await company_currency(session)
    return {name: company_money(value, company, name) for name, value in limits.items()}


async def _unique_name(session: AsyncSession, statement: Executable, name: str) -> Result[Any]:
    """Run `statement` in a savepoint: a name already taken is a 409, and the request's
    transaction lives on."""
    try:
        async with session.begin_nested():
            return await session.execute(statement)
    except IntegrityError as exc:
        if "uq_categories_name" not in str(exc.orig):
            raise
        raise Conflict(
            f"A category named “{name}” already exists (names ignore capitals)."
        ) from exc


async def usable_category_ids(session: AsyncSession, wanted: Sequence[int]) -> set[int]:
    """Which of `wanted` are active categories."""
    found = await session.scalars(
        select(Category.id).where(Category.id.in_(wanted), Category.active)
    )
    return set(found.all())


def not_usable(category_id: int) -> InvalidField:
    return InvalidField(
        "category_id",
        f"There is no active category {category_id}; choose one of the active categories.",
    )
