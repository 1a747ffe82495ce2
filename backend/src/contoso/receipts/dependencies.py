from typing import Annotated

from fastapi import Depends, Request

from contoso.receipts.storage import ReceiptStorage


async def get_receipt_storage(request: Request) -> ReceiptStorage:
    storage: ReceiptStorage = request.app.state.receipt_storage
    return storage


ReceiptStorageDep = Annotated[ReceiptStorage, Depends(get_receipt_storage)]
