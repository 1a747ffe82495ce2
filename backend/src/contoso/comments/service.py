"""Comments on tickets: the owner and employers talk about a ticket; append-only, and
each one in the ticket's history. An employer's comment is emailed to the owner, who
would not know to look; the owner's comments are on the ticket's console page."""

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from contoso.comments.schemas import CommentCreate, CommentRead
from contoso.history import record_for_each
from contoso.mail import outbox
from contoso.models import Comment, EventKind, MailKind, User
from contoso.tickets.service import get_ticket


async def list_comments(session: AsyncSession, viewer: User, ticket_id: int) -> list[CommentRead]:
    """The comments on a ticket `viewer` may see, oldest first (NotFound otherwise)."""
    await get_ticket(session, viewer, ticket_id)
    comments = await session.scalars(
        select(Comment)
        .where(Comment.ticket_id == ticket_id)
        .options(joinedload(Comment.author))
        .order_by(Comment.id)
    )
    return [CommentRead.model_validate(comment) for comment in comments.all()]


async def add_comment(
    session: AsyncSession, author: User, ticket_id: int, data: CommentCreate
) -> CommentRead:
    """Comment on a ticket `author` may see: their own, or any visible one for an
    employer (NotFound otherwise, as for reading it). Recorded in the history too, and
    an employer's comment emailed to the owner."""
    await get_ticket(session, author, ticket_id)
    added = (
        insert(Comment)
        .values(ticket_id=ticket_id, author_id=author.id, body=data.body)
        .returning(Comment.id, Comment.ticket_id.label("ticket"))
        .cte("added")
    )
    # The history's entry points at the ticket, with the comment as its note: the
    # comment and its entry in one statement.
    commented = select(added.c.ticket.label("id")).cte("commented")
    recorded = record_for_each(commented, EventKind.TICKET_COMMENTED, author.id, note=data.body)
    comment_id = await session.scalar(select(added.c.id).add_cte(recorded.cte("recorded")))
    comment = await session.scalar(
        select(Comment).where(Comment.id == comment_id).options(joinedload(Comment.author))
    )
    assert comment is not None  # just written, in this transaction
    if author.is_employer:
        facts = {"by": author.username, "note": data.body}
        await session.execute(outbox.tell_owners(MailKind.TICKET_COMMENTED, [ticket_id], facts))
    return CommentRead.model_validate(comment)
