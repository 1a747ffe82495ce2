from typing import Annotated

from fastapi import Depends, Path, Request

from contoso.receipts.decoding import ReceiptCleaner
from contoso.receipts.storage import ReceiptStorage
from contoso.validation import MAX_RECORD_ID

ReceiptId = Annotated[int, Path(ge=1, le=MAX_RECORD_ID)]


async def get_receipt_storage(request: Request) -> ReceiptStorage:
    storage: ReceiptStorage = request.app.state.receipt_storage
    return storage


async def get_receipt_cleaner(request: Request) -> ReceiptCleaner:
    cleaner: ReceiptCleaner = request.app.state.receipt_cleaner
    return cleaner


ReceiptStorageDep = Annotated[ReceiptStorage, Depends(get_receipt_storage)]
ReceiptCleanerDep = Annotated[ReceiptCleaner, Depends(get_receipt_cleaner)]
