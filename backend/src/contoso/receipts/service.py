"""The receipt rules: who may add, see and remove a ticket's receipts, and what is kept."""

from sqlalchemy import BigInteger, delete, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contoso import flags
from contoso.errors import Conflict, Forbidden, NotFound
from contoso.models import EDITABLE, Event, EventKind, Receipt, Ticket, User
from contoso.receipts.files import CleanReceipt
from contoso.receipts.storage import ReceiptStorage
from contoso.tickets.queries import visible_ticket_ids
from contoso.tickets.schemas import ReceiptRead
from contoso.tickets.service import get_ticket

MAX_RECEIPTS_PER_TICKET = 10


async def _own_pending_ticket(session: AsyncSession, owner: User, ticket_id: int) -> None:
    """Hold the owner and lock their pending ticket (FOR UPDATE) for a receipt change:
    NotFound unless it is visible to them, Forbidden unless it is theirs (an employer
    sees every ticket), Conflict once it is decided."""
    await flags.hold_owners(session, select(literal(owner.id, BigInteger)))
    found = (
        await session.execute(
            select(Ticket.status, Ticket.owner_id)
            .where(Ticket.id.in_(visible_ticket_ids(owner)), Ticket.id == ticket_id)
            .with_for_update()
        )
    ).first()
    if found is None:
        raise NotFound(f"Ticket {ticket_id} not found.")
    if found.owner_id != owner.id:
        raise _not_the_owner(ticket_id)
    if found.status not in EDITABLE:
        raise Conflict(
            f"Ticket {ticket_id} was already {found.status}; its receipts can no longer change."
        )


def _not_the_owner(ticket_id: int) -> Forbidden:
    return Forbidden(f"Only its owner can change the receipts of ticket {ticket_id}.")


async def check_can_add(session: AsyncSession, owner: User, ticket_id: int) -> None:
    """Refuse early, before a file is read: the owner's own pending ticket, with room.
    An employer, who sees every ticket, is told only its owner changes its receipts."""
    ticket = await get_ticket(session, owner, ticket_id)
    if ticket.owner.id != owner.id:
        raise _not_the_owner(ticket_id)
    if ticket.status not in EDITABLE:
        raise Conflict(
            f"Ticket {ticket_id} was already {ticket.status}; its receipts can no longer change."
        )
    if len(ticket.receipts) >= MAX_RECEIPTS_PER_TICKET:
        raise _full(ticket_id, len(ticket.receipts))


def _full(ticket_id: int, attached: int) -> Conflict:
    return Conflict(
        f"Ticket {ticket_id} can have at most {MAX_RECEIPTS_PER_TICKET} receipts and has "
        f"{attached}; delete one before adding another."
    )


async def add_receipt(
    session: AsyncSession,
    storage: ReceiptStorage,
    owner: User,
    ticket_id: int,
    receipt: CleanReceipt,
) -> ReceiptRead:
    """Attach a cleaned file to the owner's pending ticket, at most
    MAX_RECEIPTS_PER_TICKET (the ticket's lock makes concurrent uploads count in
    turn), and re-flag the ticket: it may now have its receipt, or share it with
    another ticket."""
    await _own_pending_ticket(session, owner, ticket_id)
    attached = await session.scalar(select(func.count()).where(Receipt.ticket_id == ticket_id))
    if (attached or 0) >= MAX_RECEIPTS_PER_TICKET:
        raise _full(ticket_id, attached or 0)
    stored = (
        await session.execute(
            insert(Receipt)
            .values(
                ticket_id=ticket_id,
                filename=receipt.filename,
                content_type=receipt.type.content_type,
                size=receipt.size,
                sha256=receipt.sha256,
            )
            .returning(Receipt)
        )
    ).scalar_one()
    await storage.save(session, stored.id, receipt.file)
    await _changed(session, owner, ticket_id, EventKind.TICKET_RECEIPT_ADDED, stored.filename)
    return ReceiptRead.model_validate(stored, from_attributes=True)


async def remove_receipt(
    session: AsyncSession, storage: ReceiptStorage, owner: User, ticket_id: int, receipt_id: int
) -> None:
    """Remove a receipt from the owner's pending ticket, and re-flag the ticket."""
    await _own_pending_ticket(session, owner, ticket_id)
    filename = await session.scalar(
        select(Receipt.filename).where(Receipt.id == receipt_id, Receipt.ticket_id == ticket_id)
    )
    if filename is None:
        raise _receipt_not_found(ticket_id, receipt_id)
    await storage.delete(session, receipt_id)
    await session.execute(delete(Receipt).where(Receipt.id == receipt_id))
    await _changed(session, owner, ticket_id, EventKind.TICKET_RECEIPT_REMOVED, filename)


async def _changed(
    session: AsyncSession, owner: User, ticket_id: int, kind: EventKind, filename: str
) -> None:
    session.add(Event(kind=kind, actor_id=owner.id, ticket_id=ticket_id, note=filename))
    await session.execute(
        update(Ticket).where(Ticket.id == ticket_id).values(updated_at=func.now())
    )
    await flags.refresh(session, [ticket_id])


async def get_receipt(
    session: AsyncSession, viewer: User, ticket_id: int, receipt_id: int
) -> ReceiptRead:
    """A receipt of a ticket `viewer` may see (the owner, or employers while the owner
    is not suspended); NotFound for anything else, whether absent or not theirs."""
    try:
        await get_ticket(session, viewer, ticket_id)
    except NotFound:
        raise _receipt_not_found(ticket_id, receipt_id) from None
    receipt = await session.scalar(
        select(Receipt).where(Receipt.id == receipt_id, Receipt.ticket_id == ticket_id)
    )
    if receipt is None:
        raise _receipt_not_found(ticket_id, receipt_id)
    return ReceiptRead.model_validate(receipt, from_attributes=True)


def _receipt_not_found(ticket_id: int, receipt_id: int) -> NotFound:
    return NotFound(f"Receipt {receipt_id} of ticket {ticket_id} not found.")
