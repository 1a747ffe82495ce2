"""How a ticket's status looks on a page: one vocabulary for the console and the pages."""

from markupsafe import Markup

from contoso.models import TicketStatus

STATUS_COLOURS = {
    TicketStatus.PENDING: "yellow",
    TicketStatus.APPROVED: "green",
    TicketStatus.DENIED: "red",
}


def status_badge(status: TicketStatus) -> Markup:
    """A coloured badge naming the status (Tabler's light badge colours)."""
    return Markup('<span class="badge bg-{}-lt status">{}</span>').format(
        STATUS_COLOURS[status], status.value
    )
