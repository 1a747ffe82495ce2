"""Money as the console shows it: in the company's currency, which limits, totals and
payments are in, and for a ticket spent in another currency the original beside it."""

from markupsafe import Markup

from contoso.currency_codes import name
from contoso.formatting import money, rate, rate_of
from contoso.models import Ticket
from contoso.tickets.schemas import TicketRead

# A ticket as the list, its page and the confirmations hold it: the model or its read.
AnyTicket = Ticket | TicketRead


def company_amount(ticket: AnyTicket, company: str) -> Markup:
    """A ticket's amount in `company` (the company's currency): what is compared,
    totalled and paid; a cell's `.amount`."""
    return Markup('<span class="amount">{}</span>').format(money(ticket.company_amount, company))


def original_amount(ticket: AnyTicket, company: str) -> Markup:
    """For a ticket spent in another currency than `company`, the amount as spent and
    the rate it was converted at: `€120.00 at 1.1512 (rate of 2026-11-20)`; nothing
    for one spent in the company's currency."""
    if ticket.currency == company:
        return Markup("")
    # The date is never broken at its hyphens when the list narrows the column.
    of = (
        Markup(' (rate of <span class="text-nowrap">{}</span>)').format(ticket.rate_date)
        if ticket.rate_date
        else Markup("")
    )
    return Markup(
        '<small class="original text-muted" title="Spent in {0}; converted at {1}">'
        "{2} at {3}{4}</small>"
    ).format(
        name(ticket.currency),
        rate_of(ticket.exchange_rate, ticket.currency, company),
        money(ticket.amount, ticket.currency),
        rate(ticket.exchange_rate),
        of,
    )


def ticket_amount(ticket: AnyTicket, company: str) -> Markup:
    """A ticket's amount cell: in the company's currency and, beneath it, the amount
    as spent in another currency with its rate (`$138.14` over `€120.00 at 1.1512
    (rate of 2026-11-20)`)."""
    return company_amount(ticket, company) + original_amount(ticket, company)


def currency_name(code: str) -> Markup:
    """`EUR` with its name: `EUR · Euro`."""
    return Markup('<span class="currency">{}</span> <small class="text-muted">{}</small>').format(
        code, name(code)
    )
