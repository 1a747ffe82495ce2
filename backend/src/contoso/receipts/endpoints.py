from typing import Annotated

from fastapi import APIRouter, File, Response, UploadFile, status
from starlette.responses import StreamingResponse

from contoso.auth.dependencies import CurrentUser
from contoso.database import SessionDep, released
from contoso.errors import error_responses
from contoso.receipts import service
from contoso.receipts.dependencies import ReceiptCleanerDep, ReceiptId, ReceiptStorageDep
from contoso.receipts.download import receipt_response
from contoso.receipts.files import JPEG, PDF, PNG, WEBP
from contoso.tickets.dependencies import TicketId
from contoso.tickets.schemas import ReceiptRead

router = APIRouter(
    prefix="/tickets/{ticket_id}/receipts",
    tags=["receipts"],
    responses=error_responses(401, 403, 404),
)

# Binary, of the type the file was recognised as when uploaded.
RECEIPT_CONTENT = {
    kind.content_type: {"schema": {"type": "string", "format": "binary"}}
    for kind in (JPEG, PNG, WEBP, PDF)
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409, 413, 415, 429),
)
async def add_receipt(
    ticket_id: TicketId,
    file: Annotated[
        UploadFile,
        File(
            description="A JPEG, PNG, WebP or PDF of at most RECEIPT_MAX_BYTES (10 MiB); an "
            "empty file, or one of another type, is refused (415)",
            json_schema_extra={"minLength": 1},
        ),
    ],
    session: SessionDep,
    storage: ReceiptStorageDep,
    cleaner: ReceiptCleanerDep,
    user: CurrentUser,
) -> ReceiptRead:
    """Attach a receipt to your pending ticket (at most 10 per ticket). The type is
    read from the file's content; images are stored without their metadata (EXIF,
    GPS location), PDFs as sent. At most RECEIPT_UPLOADS_PER_USER uploads of yours
    are handled at once: 429 with Retry-After beyond."""
    async with cleaner.turn(user.id):
        await service.check_can_add(session, user, ticket_id)
        async with released(session):
            cleaned = await cleaner.clean(file.file, file.filename)
        try:
            return await service.add_receipt(session, storage, user, ticket_id, cleaned)
        finally:
            cleaned.file.close()


@router.get(
    "/{receipt_id}",
    response_class=StreamingResponse,
    responses={200: {"description": "The file", "content": RECEIPT_CONTENT}},
)
async def get_receipt(
    ticket_id: TicketId,
    receipt_id: ReceiptId,
    session: SessionDep,
    storage: ReceiptStorageDep,
    user: CurrentUser,
) -> StreamingResponse:
    """The receipt's file, for its ticket's owner and for employers."""
    receipt = await service.get_receipt(session, user, ticket_id, receipt_id)
    return receipt_response(storage, receipt)


@router.delete(
    "/{receipt_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(409)
)
async def delete_receipt(
    ticket_id: TicketId,
    receipt_id: ReceiptId,
    session: SessionDep,
    storage: ReceiptStorageDep,
    user: CurrentUser,
) -> Response:
    """Remove a receipt from your pending ticket."""
    await service.remove_receipt(session, storage, user, ticket_id, receipt_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
