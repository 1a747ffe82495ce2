from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, status
from starlette.responses import Response

from contoso.auth.dependencies import CurrentUser, employers_only
from contoso.database import SessionDep
from contoso.errors import error_responses
from contoso.payments import service
from contoso.payments.export import payment_csv
from contoso.payments.schemas import PaymentCreate, PaymentPage, PaymentRead, PaymentReport
from contoso.validation import MAX_RECORD_ID

router = APIRouter(prefix="/payments", tags=["payments"], responses=error_responses(401, 403))

CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}
PaymentId = Annotated[int, Path(ge=1, le=MAX_RECORD_ID)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409),
    dependencies=[employers_only("pay tickets")],
)
async def pay(body: PaymentCreate, session: SessionDep, user: CurrentUser) -> PaymentReport:
    """Pay approved tickets in one batch (employers only), with the bank's reference
    (generated when blank). Each ticket is paid at most once, however many batches
    race; tickets that cannot be paid are skipped with a reason (`not_found`,
    `not_approved`, `already_paid`). 409 when none can be, or the reference is taken."""
    return await service.pay_tickets(session, user, body.ticket_ids, body.reference)


@router.get("", dependencies=[employers_only("see payments")])
async def list_payments(
    session: SessionDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> PaymentPage:
    """Payment batches, newest first (employers only)."""
    return await service.list_payments(session, user, limit=limit, offset=offset)


@router.get(
    "/{payment_id}", responses=error_responses(404), dependencies=[employers_only("see payments")]
)
async def get_payment(payment_id: PaymentId, session: SessionDep, user: CurrentUser) -> PaymentRead:
    """A batch: its tickets, and what each employee was paid."""
    return await service.get_payment(session, user, payment_id)


@router.get(
    "/{payment_id}/export",
    response_class=Response,
    responses=CSV | error_responses(404),
    dependencies=[employers_only("see payments")],
)
async def export(
    payment_id: PaymentId, request: Request, session: SessionDep, user: CurrentUser
) -> Response:
    """The batch for the bank or the accounts: one line per employee (name, email,
    amount, ticket ids, reference), UTF-8 with a byte-order mark, formulas neutralised."""
    payment = await service.get_payment(session, user, payment_id)
    return payment_csv(payment, request.app.state.settings.zone)
