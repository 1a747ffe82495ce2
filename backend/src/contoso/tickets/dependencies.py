from typing import Annotated

from fastapi import Depends, Path

from contoso.auth.dependencies import CurrentUser
from contoso.database import SessionDep
from contoso.tickets import service
from contoso.tickets.schemas import TicketRead
from contoso.validation import MAX_RECORD_ID

TicketId = Annotated[int, Path(ge=1, le=MAX_RECORD_ID)]


async def get_visible_ticket(
    ticket_id: TicketId, session: SessionDep, viewer: CurrentUser
) -> TicketRead:
    return await service.get_ticket(session, viewer, ticket_id)


VisibleTicket = Annotated[TicketRead, Depends(get_visible_ticket)]
