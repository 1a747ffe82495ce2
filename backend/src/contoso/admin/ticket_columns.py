"""A ticket's columns as the console shows them, derived from `TicketRead`: which fields
a ticket's page and the tickets' CSV export show, in which order, under which labels,
and the cells of the list and of the page (SQLAdmin column formatters, `(ticket, column
name) -> Markup`) that show a field otherwise than as its value."""

from collections.abc import Callable, Iterable
from decimal import Decimal
from operator import attrgetter
from typing import Any

from markupsafe import Markup

from contoso.admin.export import ExportColumn
from contoso.admin.money import currency_name
from contoso.formatting import isolated, money, plain_money, rate_of
from contoso.models import Ticket, TicketFlag, TicketStatus
from contoso.tickets.display import FLAG_LABELS, flag_badges, status_badge, status_words
from contoso.tickets.fields import REST, arranged, label
from contoso.tickets.schemas import NESTED, TicketRead

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


# The list, at 1366 px wide with the filters beside it: what a reviewer decides by. The
# amount is the company's (comparable, sorted by), with the original beneath it.
LIST_FIELDS = ("id", "owner", "spent_on", "company_amount", "status", "description", "links")
# What the list's search looks in, besides the employee's email and name.
SEARCHED_FIELDS = ("description",)
# A ticket's page: every field but those it shows in its own way (the receipts and the
# request for changes in cards of their own, the duplicates in the flags' reasons) and
# the last change's time; a new field goes after the links.
DETAIL_FIELDS = arranged(
    (
        *("id", "owner", "spent_on", "company_amount", "amount", "currency"),
        *("exchange_rate", "rate_date", "status", "flags", "category", "description"),
        "links",
        REST,
        *("created_at", "decided_by", "decided_at", "decision_note"),
        *("paid_at", "paid_by", "payment"),
    ),
    leave_out=(
        *("duplicate_of", "receipts", "updated_at"),
        *("changes_requested_at", "changes_requested_by", "changes_note"),
    ),
)
# The CSV export: the same but the payment (the payments' own export has it).
EXPORT_FIELDS = arranged(
    (
        *("id", "owner", "spent_on", "company_amount", "amount", "currency"),
        *("exchange_rate", "rate_date", "status", "category", "flags", "description"),
        "links",
        REST,
        *("created_at", "decided_at", "decided_by", "decision_note"),
    ),
    leave_out=(
        *("duplicate_of", "receipts", "updated_at"),
        *("changes_requested_at", "changes_requested_by", "changes_note"),
        *("paid_at", "paid_by", "payment"),
    ),
)
# Where the console names a field otherwise than by its label (`tickets.fields`).
CONSOLE_LABELS = {
    "id": "#",
    "company_amount": "Amount",
    "amount": "Amount spent",
}


def column(name: str) -> str:
    """The `Ticket` column of `TicketRead`'s field `name`: a nested object's key
    (`owner_id`), else the column of that name."""
    return f"{name}_id" if name in NESTED else name


def text(ticket: Ticket, name: str) -> Markup:
    """A text column as typed, isolated from the page's direction; nothing when blank,
    so the page leaves its row out (ticket_details.html)."""
    value = getattr(ticket, name)
    return isolated(value) if value else Markup("")


def text_formatters(names: Iterable[str]) -> dict[Any, Callable[[Any, Any], Any]]:
    """`text` for each text field (or none) among `names`: a plain field's default,
    which a view overrides where it shows a field otherwise."""
    return {
        getattr(Ticket, name): text
        for name in names
        if TicketRead.model_fields[name].annotation in (str, str | None)
    }


def ticket_export_columns(company: str) -> list[ExportColumn]:
    """The CSV export (ConsoleView.export_data): the listed tickets, one row each, a
    column per field of EXPORT_FIELDS. The amount in the company's currency, which an
    accountant adds up, then the amount as spent, its currency and the rate it was
    converted at (as recorded), with each currency's own decimals. A field without a
    column of its own here is its value under its label (a nested object's, its id)."""
    own = {
        "owner": [
            ExportColumn("Employee", lambda ticket: ticket.owner.username),
            ExportColumn("Email", lambda ticket: ticket.owner.email),
        ],
        "company_amount": [
            ExportColumn(f"Amount ({company})", lambda t: plain_money(t.company_amount, company))
        ],
        "amount": [
            ExportColumn(
                "Original amount", lambda ticket: plain_money(ticket.amount, ticket.currency)
            )
        ],
        "currency": [ExportColumn("Original currency", lambda ticket: ticket.currency)],
        "exchange_rate": [
            ExportColumn(label("exchange_rate"), lambda t: _recorded_rate(t.exchange_rate))
        ],
        "rate_date": [ExportColumn("Rate date", lambda ticket: ticket.rate_date)],
        "status": [ExportColumn(label("status"), lambda ticket: status_label(ticket.status))],
        "category": [ExportColumn(label("category"), lambda ticket: ticket.category.name)],
        "flags": [ExportColumn(label("flags"), _flag_names)],
        "decided_by": [
            ExportColumn(label("decided_by"), lambda t: t.decided_by and t.decided_by.username)
        ],
    }
    return [
        exported
        for name in EXPORT_FIELDS
        for exported in own.get(name) or [ExportColumn(label(name), attrgetter(column(name)))]
    ]


def _recorded_rate(value: Decimal) -> str:
    # Every decimal as recorded, never in exponent form (1E-7), no grouping.
    return format(value, "f")
