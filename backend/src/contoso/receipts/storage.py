"""Where receipt files live: a small interface, and its PostgreSQL implementation.

PostgreSQL keeps replicas stateless and a file commits or rolls back with the receipt
row that describes it. An S3-compatible store would implement the same interface (its
`save` then has to upload before the commit and forget after a rollback).
"""

from collections.abc import AsyncIterator
from typing import BinaryIO, Protocol

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from contoso.models import ReceiptChunk

# Written and read a piece at a time: a download or an upload holds one piece in memory.
CHUNK_BYTES = 256 * 1024


class ReceiptStorage(Protocol):
    async def save(self, session: AsyncSession, receipt_id: int, file: BinaryIO) -> None:
        """Store `file` (from its current position) as the receipt's bytes, within the
        session's transaction."""

    async def delete(self, session: AsyncSession, receipt_id: int) -> None:
        """Forget the receipt's bytes, within the session's transaction."""

    def read(self, receipt_id: int, size: int) -> AsyncIterator[bytes]:
        """The receipt's `size` bytes, a piece at a time, read after the request's
        transaction: a download holds no transaction while a slow client reads."""
        ...


class MissingReceiptBytes(Exception):
    """The file ended before its size: the receipt was deleted during the download."""


class DatabaseStorage:
    """Receipt bytes in `receipt_chunks`, CHUNK_BYTES per row."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def save(self, session: AsyncSession, receipt_id: int, file: BinaryIO) -> None:
        seq = 0
        # Read in the event loop: a spooled file is in memory or in the page cache, and
        # a worker thread per read costs more (and, with glibc, an arena of memory each).
        while chunk := file.read(CHUNK_BYTES):
            await session.execute(
                insert(ReceiptChunk).values(receipt_id=receipt_id, seq=seq, data=chunk)
            )
            seq += 1

    async def delete(self, session: AsyncSession, receipt_id: int) -> None:
        await session.execute(delete(ReceiptChunk).where(ReceiptChunk.receipt_id == receipt_id))

    async def read(self, receipt_id: int, size: int) -> AsyncIterator[bytes]:
        sent, seq = 0, 0
        while sent < size:
            # A short connection per piece: the pool is not held while the client reads.
            async with self.engine.connect() as connection:
                chunk = await connection.scalar(
                    select(ReceiptChunk.data).where(
                        ReceiptChunk.receipt_id == receipt_id, ReceiptChunk.seq == seq
                    )
                )
            if chunk is None:
                raise MissingReceiptBytes(f"receipt {receipt_id} ended at byte {sent} of {size}")
            sent, seq = sent + len(chunk), seq + 1
            yield chunk
