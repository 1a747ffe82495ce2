"""How a ticket's status and flags read on a page: one vocabulary for the console and
the pages."""

from collections.abc import Iterable
from decimal import Decimal

from markupsafe import Markup

from contoso.formatting import money
from contoso.models import TicketFlag, TicketStatus

STATUS_COLOURS = {
    TicketStatus.PENDING: "yellow",
    TicketStatus.APPROVED: "green",
    TicketStatus.DENIED: "red",
    TicketStatus.PAID: "blue",
    TicketStatus.CHANGES_REQUESTED: "purple",
}


def status_badge(status: TicketStatus) -> Markup:
    """A coloured badge naming the status (Tabler's light badge colours)."""
    return Markup('<span class="badge bg-{}-lt status">{}</span>').format(
        STATUS_COLOURS[status], status_words(status)
    )


def status_words(status: TicketStatus) -> str:
    """`changes_requested` as `changes requested`."""
    return status.value.replace("_", " ")


FLAG_LABELS = {
    TicketFlag.OVER_LIMIT: "Over limit",
    TicketFlag.RECEIPT_MISSING: "Receipt missing",
    TicketFlag.POSSIBLE_DUPLICATE: "Possible duplicate",
}


def flag_badges(flags: Iterable[str]) -> Markup:
    """One small badge per flag, in the order the ticket stores them."""
    return Markup("").join(
        Markup('<span class="badge bg-orange-lt flag">{}</span>').format(
            FLAG_LABELS[TicketFlag(flag)]
        )
        for flag in flags
    )


def flag_reason(
    flag: TicketFlag,
    category: str,
    currency: str,
    max_amount: Decimal | None = None,
    receipt_required_above: Decimal | None = None,
) -> str:
    """What raised `flag`, by the category's limits (in `currency`, the company's) where
    they are known (a decided ticket keeps its flags after a limit is lifted). For
    `possible_duplicate`, the lead-in: the caller names the tickets, as text or links."""
    if flag is TicketFlag.OVER_LIMIT:
        limit = "" if max_amount is None else f" of {money(max_amount, currency)}"
        return f"Over the {category} limit{limit}"
    if flag is TicketFlag.RECEIPT_MISSING:
        # Zero: a receipt is required whatever the amount.
        above = (
            f" above {money(receipt_required_above, currency)}" if receipt_required_above else ""
        )
        return f"Receipt required{above} and none attached"
    return "Possible duplicate of"
