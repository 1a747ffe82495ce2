"""A ticket's columns as the console shows them: the cells of the tickets list and of
a ticket's page (SQLAdmin column formatters, `(ticket, column name) -> Markup`), and the
columns of the tickets' CSV export."""

from collections.abc import Callable
from decimal import Decimal

from markupsafe import Markup

from contoso.admin.export import ExportColumn
from contoso.admin.money import currency_name
from contoso.formatting import isolated, money, plain_money, rate_of
from contoso.models import Ticket, TicketFlag, TicketStatus
from contoso.tickets.display import FLAG_LABELS, flag_badges, status_badge, status_words

# The list shows a description's start; the tooltip and the detail page show it all.
SHORT_DESCRIPTION = 60


def status_label(status: TicketStatus) -> str:
    """`Changes requested`: a status as a filter or a spreadsheet names it."""
    return status_words(status).capitalize()


def links(ticket: Ticket, _: str) -> Markup:
    if not ticket.links:
        return Markup("")  # no row (ticket_details.html)
    # Links are validated http(s) URLs on the way in; escaped again on the way out.
    listed = Markup("<br>").join(
        Markup('<a href="{0}" rel="noopener noreferrer nofollow" target="_blank">{1}</a>').format(
            link, isolated(link)
        )
        for link in ticket.links
    )
    return Markup('<div id="links">{}</div>').format(listed)


def link_count(ticket: Ticket, _: str) -> Markup:
    """An icon and how many links, opening the ticket's page where they are listed."""
    if not ticket.links:
        return Markup("")
    count = len(ticket.links)
    return Markup(
        '<a href="details/{0}#links" title="{1} link{2}" aria-label="{1} link{2}">'
        '<i class="fa-solid fa-link"></i> {1}</a>'
    ).format(ticket.id, count, "" if count == 1 else "s")


def short_description(ticket: Ticket, _: str) -> Markup:
    """The list's description cell: its start, and beneath it the category."""
    text = ticket.description
    short = text if len(text) <= SHORT_DESCRIPTION else f"{text[:SHORT_DESCRIPTION].rstrip()}…"
    return Markup('<span class="description" title="{}" dir="auto">{}</span><br>{}').format(
        text, short, _category_badge(ticket)
    )


def full_description(ticket: Ticket, _: str) -> Markup:
    return Markup('<span class="keep-lines" dir="auto">{}</span>').format(ticket.description)


def note(ticket: Ticket, _: str) -> Markup:
    if not ticket.decision_note:
        return Markup("")
    return Markup('<span class="keep-lines" dir="auto">{}</span>').format(ticket.decision_note)


def spent(ticket: Ticket, _: str) -> Markup:
    return Markup('<span class="spent">{}</span>').format(money(ticket.amount, ticket.currency))


def currency(ticket: Ticket, _: str) -> Markup:
    return currency_name(ticket.currency)


def rate_date(ticket: Ticket, _: str) -> Markup:
    return Markup('<span class="rate-date">{}</span>').format(ticket.rate_date)


def rate(company: str) -> Callable[[Ticket, str], Markup]:
    """The detail page's rate: `1 EUR = $1.1512`."""

    def formatted(ticket: Ticket, _: str) -> Markup:
        return Markup('<span class="exchange-rate">{}</span>').format(
            rate_of(ticket.exchange_rate, ticket.currency, company)
        )

    return formatted


def when_converted(
    company: str, shown: Callable[[Ticket, str], Markup]
) -> Callable[[Ticket, str], Markup]:
    """`shown` on the page of a ticket spent in another currency than `company`; for
    one spent in `company` nothing, so the row is not drawn (its amount says it all)."""

    def formatted(ticket: Ticket, name: str) -> Markup:
        return Markup("") if ticket.currency == company else shown(ticket, name)

    return formatted


def employee(ticket: Ticket, _: str) -> Markup:
    # `person`: cut to the list's column (_ticket_style.html); the tooltip has it all.
    return Markup(
        '<span class="person" title="{0} <{1}>">{2}<br><small class="text-muted">{3}</small>'
        "</span>"
    ).format(
        ticket.owner.username,
        ticket.owner.email,
        isolated(ticket.owner.username),
        isolated(ticket.owner.email),
    )


def employee_in_full(ticket: Ticket, _: str) -> Markup:
    return Markup('{0}<br><small class="text-muted">{1}</small>').format(
        isolated(ticket.owner.username), isolated(ticket.owner.email)
    )


def decider(ticket: Ticket, _: str) -> Markup:
    return isolated(ticket.decided_by.username) if ticket.decided_by else Markup("")


def status(ticket: Ticket, _: str) -> Markup:
    return status_badge(ticket.status)


# At 1366 px wide the list has no width to spare for two more columns: the flags stack
# under the status and the category under the description (_ticket_style.html).
def status_and_flags(ticket: Ticket, _: str) -> Markup:
    """The list's status cell: the status, and beneath it the flags."""
    if not ticket.flags:
        return status_badge(ticket.status)
    return Markup('{}<span class="flags">{}</span>').format(
        status_badge(ticket.status), flag_badges(ticket.flags)
    )


def _category_name(ticket: Ticket) -> str:
    return ticket.category.name + ("" if ticket.category.active else " (inactive)")


def _category_badge(ticket: Ticket) -> Markup:
    return Markup(
        '<span class="badge bg-azure-lt category" title="Category: {0}">{1}</span>'
    ).format(_category_name(ticket), isolated(ticket.category.name))


def category_detail(ticket: Ticket, _: str) -> Markup:
    return Markup("{}{}").format(
        isolated(ticket.category.name), "" if ticket.category.active else " (inactive)"
    )


def _flag_names(ticket: Ticket) -> str:
    return ", ".join(FLAG_LABELS[TicketFlag(flag)] for flag in ticket.flags)


def payer(ticket: Ticket, _: str) -> Markup:
    return isolated(ticket.paid_by.username) if ticket.paid_by else Markup("")


def payment(ticket: Ticket, _: str) -> Markup:
    """The batch a paid ticket went out in: its reference, opening its page."""
    if ticket.payment is None:
        return Markup("")
    return Markup('<a id="payment" href="../../payments/details/{0}">{1}</a>').format(
        ticket.payment.id, isolated(ticket.payment.reference)
    )


def ticket_export_columns(company: str) -> list[ExportColumn]:
    """The CSV export (ConsoleView.export_data): the listed tickets, one row each. The
    amount in the company's currency, which an accountant adds up, then the amount as
    spent, its currency and the rate it was converted at (as recorded), with each
    currency's own decimals."""
    return [
        ExportColumn("Ticket", lambda ticket: ticket.id),
        ExportColumn("Employee", lambda ticket: ticket.owner.username),
        ExportColumn("Email", lambda ticket: ticket.owner.email),
        ExportColumn("Spent on", lambda ticket: ticket.spent_on),
        ExportColumn(f"Amount ({company})", lambda t: plain_money(t.company_amount, company)),
        ExportColumn("Original amount", lambda ticket: plain_money(ticket.amount, ticket.currency)),
        ExportColumn("Original currency", lambda ticket: ticket.currency),
        ExportColumn("Exchange rate", lambda ticket: _recorded_rate(ticket.exchange_rate)),
        ExportColumn("Rate date", lambda ticket: ticket.rate_date),
        ExportColumn("Status", lambda ticket: status_label(ticket.status)),
        ExportColumn("Category", lambda ticket: ticket.category.name),
        ExportColumn("Flags", _flag_names),
        ExportColumn("Description", lambda ticket: ticket.description),
        ExportColumn("Links", lambda ticket: ticket.links),
        ExportColumn("Filed at", lambda ticket: ticket.created_at),
        ExportColumn("Decided at", lambda ticket: ticket.decided_at),
        ExportColumn("Decided by", lambda ticket: ticket.decided_by and ticket.decided_by.username),
        ExportColumn("Note", lambda ticket: ticket.decision_note),
    ]


def _recorded_rate(value: Decimal) -> str:
    # Every decimal as recorded, never in exponent form (1E-7), no grouping.
    return format(value, "f")
