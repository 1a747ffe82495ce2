"""How the console explains a ticket's policy flags on its page, with links to the
tickets it may duplicate (badges and wording: `tickets.display`)."""

from collections.abc import Iterable

from markupsafe import Markup

from contoso.models import Category, TicketFlag
from contoso.tickets.display import flag_badges, flag_reason


def flag_reasons(
    flags: Iterable[str], category: Category, duplicate_of: Iterable[int], currency: str
) -> Markup:
    """What raised each flag, by the category's current policy (in `currency`, the
    company's); the possible duplicates link to their pages (relative links: this is
    shown on a ticket's page)."""
    lines = []
    for flag in map(TicketFlag, flags):
        lines.append(
            Markup('<li class="flag-reason" data-flag="{}">{} {}</li>').format(
                flag.value, flag_badges([flag]), _reason(flag, category, duplicate_of, currency)
            )
        )
    if not lines:
        return Markup('<span class="text-muted">None</span>')
    return Markup('<ul class="list-unstyled m-0" id="flags">{}</ul>').format(Markup("").join(lines))


def _reason(
    flag: TicketFlag, category: Category, duplicate_of: Iterable[int], currency: str
) -> Markup:
    limits = (category.max_amount, category.receipt_required_above)
    reason = flag_reason(flag, category.name, currency, *limits)
    if flag is not TicketFlag.POSSIBLE_DUPLICATE:
        return Markup("{}").format(reason)
    links = Markup(", ").join(
        Markup('<a href="{0}">#{0}</a>').format(ticket_id) for ticket_id in duplicate_of
    )
    return Markup("{} {}").format(reason, links)
