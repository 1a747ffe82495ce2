from typing import Annotated

from fastapi import Depends, Path

from contoso.auth.dependencies import CurrentUser
from contoso.database import SessionDep
from contoso.models import Ticket
from contoso.tickets import service

# Ids are bigints; anything outside that range cannot be a ticket.
TicketId = Annotated[int, Path(ge=1, le=2**63 - 1)]


async def get_visible_ticket(
    ticket_id: TicketId, session: SessionDep, viewer: CurrentUser
) -> Ticket:
    return await service.get_ticket(session, viewer, ticket_id)


VisibleTicket = Annotated[Ticket, Depends(get_visible_ticket)]
