"""How a ticket's status and flags read on a page: one vocabulary for the console and
the pages."""

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from markupsafe import Markup

from contoso.formatting import money, rate_of
from contoso.models import Event, EventKind, TicketFlag, TicketStatus
from contoso.tickets.fields import arranged, label
from contoso.tickets.workflow import STATUSES


def status_badge(status: TicketStatus) -> Markup:
    """A coloured badge naming the status (Tabler's light badge colours, as declared)."""
    return Markup('<span class="badge bg-{}-lt status">{}</span>').format(
        STATUSES[status].colour, status_words(status)
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


# What an edit changed, as the history names it: every field of a ticket by its label
# (an edit records a few), in the order a ticket's page shows them; {company} is the
# company's currency.
CHANGE_LABELS = {
    name: label(name)
    for name in arranged(
        (
            "spent_on",
            "currency",
            "amount",
            "company_amount",
            "exchange_rate",
            "rate_date",
            "category",
        )
    )
} | {"company_amount": "Amount in {company}"}


def edits_in_words(events: Sequence[Event], currency: str, company: str) -> list[list[str]]:
    """What each of a ticket's `events` changed, in words (none for other events), in
    their order: `Amount: ¥3,400 → ¥3,600`. `currency` is the ticket's currency now
    (an older edit's amounts are in the currency it had then, found walking back
    through the edits); `company` the company's."""
    worded: list[list[str]] = []
    for event in reversed(events):
        changes = event.changes if event.kind is EventKind.TICKET_EDITED else None
        if not changes:
            worded.append([])
            continue
        before = str(changes["currency"][0]) if "currency" in changes else currency
        worded.append(_edit_in_words(changes, (before, currency), company))
        currency = before
    return worded[::-1]


def _edit_in_words(
    changes: Mapping[str, Sequence[object]], currencies: tuple[str, str], company: str
) -> list[str]:
    def shown(name: str, value: object, side: int) -> str:
        if value is None or value == "":
            return "—"
        if name == "amount":
            return money(Decimal(str(value)), currencies[side])
        if name == "company_amount":
            return money(Decimal(str(value)), company)
        if name == "exchange_rate":
            return rate_of(Decimal(str(value)), currencies[side], company)
        if name == "description":
            return f"“{value}”"
        return str(value)

    def line(name: str, label: str) -> str:
        before, after = changes[name]
        if name == "links" and isinstance(before, list) and isinstance(after, list):
            said = [f"added {_short(link)}" for link in after if link not in before]
            said += [f"removed {_short(link)}" for link in before if link not in after]
            return f"{label}: {'; '.join(said) or 'reordered'}"
        return f"{label}: {shown(name, before, 0)} → {shown(name, after, 1)}"

    # A field no longer on a ticket (an older edit's) is still shown, by its own name.
    labels = CHANGE_LABELS | {name: name for name in changes if name not in CHANGE_LABELS}
    return [
        line(name, label.format(company=company))
        for name, label in labels.items()
        if name in changes
    ]


def _short(link: object, most: int = 60) -> str:
    text = str(link)
    return text if len(text) <= most else text[: most - 1] + "…"
