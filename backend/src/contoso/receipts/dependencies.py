from typing import Annotated

from fastapi import Depends, Request

from contoso.receipts.decoding import ReceiptCleaner
from contoso.receipts.storage import ReceiptStorage


async def get_receipt_storage(request: Request) -> ReceiptStorage:
    storage: ReceiptStorage = request.app.state.receipt_storage
    return storage


async def get_receipt_cleaner(request: Request) -> ReceiptCleaner:
    cleaner: ReceiptCleaner = request.app.state.receipt_cleaner
    return cleaner


ReceiptStorageDep = Annotated[ReceiptStorage, Depends(get_receipt_storage)]
ReceiptCleanerDep = Annotated[ReceiptCleaner, Depends(get_receipt_cleaner)]
