"""A receipt's file as every door serves it (the API, the pages, the console)."""

from starlette.responses import StreamingResponse

from contoso.receipts.files import content_disposition, stored_type
from contoso.receipts.storage import ReceiptStorage
from contoso.tickets.schemas import ReceiptRead

# A file a user uploaded never runs in our origin: no sniffing it into HTML, no script,
# no plugins, no forms, even when opened on its own; nor kept in any cache.
RECEIPT_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def receipt_response(storage: ReceiptStorage, receipt: ReceiptRead) -> StreamingResponse:
    """Stream the file with the type it was recognised as (never the uploader's word);
    images inline, PDFs as attachments."""
    kind = stored_type(receipt.content_type)
    return StreamingResponse(
        storage.read(receipt.id, receipt.size),
        media_type=kind.content_type,
        headers=RECEIPT_HEADERS
        | {
            "Content-Length": str(receipt.size),
            "Content-Disposition": content_disposition(receipt.filename, kind),
        },
    )
