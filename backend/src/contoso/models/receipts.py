"""Receipts: their descriptions and their bytes."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from contoso.models.base import Base


class Receipt(Base):
    """A receipt's description; its bytes are kept by `receipts.storage`."""

    __tablename__ = "receipts"
    __table_args__ = (
        CheckConstraint("size > 0", name="size_positive"),
        Index("ix_receipts_ticket", "ticket_id", "id"),
        # Duplicate detection: the same file on another ticket.
        Index("ix_receipts_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ReceiptChunk(Base):
    """A receipt's bytes in pieces of at most `receipts.storage.CHUNK_BYTES`, so a file
    is written and read a piece at a time, and commits or rolls back with its ticket."""

    __tablename__ = "receipt_chunks"

    receipt_id: Mapped[int] = mapped_column(
        ForeignKey("receipts.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
