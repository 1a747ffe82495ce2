from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from contoso.auth.dependencies import CurrentUser, employers_only
from contoso.currencies import service
from contoso.currencies.schemas import (
    Currency,
    ExchangeRateCreate,
    ExchangeRatePage,
    ExchangeRateRead,
)
from contoso.database import SessionDep
from contoso.errors import error_responses

router = APIRouter(
    prefix="/exchange-rates", tags=["exchange-rates"], responses=error_responses(401, 403)
)

ALREADY_RECORDED: dict[int | str, dict[str, Any]] = {
    200: {"description": "This rate was already recorded", "model": ExchangeRateRead}
}


@router.get("", name="list")
async def list_exchange_rates(
    session: SessionDep,
    user: CurrentUser,
    currency: Currency | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> ExchangeRatePage:
    """The recorded rates, latest first; of one `currency` if given. A ticket in a
    currency is converted at its latest rate valid on the purchase date."""
    return await service.list_rates(session, currency, limit=limit, offset=offset)


@router.post(
    "",
    name="add",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409) | ALREADY_RECORDED,
    dependencies=[employers_only("record exchange rates")],
)
async def add_exchange_rate(
    body: ExchangeRateCreate, session: SessionDep, user: CurrentUser, response: Response
) -> ExchangeRateRead:
    """Record how many units of the company's currency one unit of `currency` buys,
    from `valid_from` on (employers only). Recording the same rate again changes
    nothing (200); another rate for the same currency and day is a 409: rates are kept
    as recorded, since tickets were converted with them."""
    recorded = await service.add_rate(session, user, body)
    if not recorded.created:
        response.status_code = status.HTTP_200_OK
    return recorded.rate
