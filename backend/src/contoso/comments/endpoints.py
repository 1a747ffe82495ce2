from fastapi import APIRouter, status

from contoso.auth.dependencies import CurrentUser
from contoso.comments import service
from contoso.comments.schemas import CommentCreate, CommentRead
from contoso.database import SessionDep
from contoso.errors import error_responses
from contoso.tickets.dependencies import TicketId

router = APIRouter(
    prefix="/tickets/{ticket_id}/comments",
    tags=["comments"],
    responses=error_responses(401, 404),
)


@router.get("", name="list")
async def list_comments(
    ticket_id: TicketId, session: SessionDep, user: CurrentUser
) -> list[CommentRead]:
    """The comments on a ticket you may see (your own, or any for employers), oldest
    first."""
    return await service.list_comments(session, user, ticket_id)


@router.post("", name="add", status_code=status.HTTP_201_CREATED)
async def add_comment(
    ticket_id: TicketId, body: CommentCreate, session: SessionDep, user: CurrentUser
) -> CommentRead:
    """Comment on a ticket you may see; comments are never edited or deleted, and each
    is in the ticket's history."""
    return await service.add_comment(session, user, ticket_id, body)
