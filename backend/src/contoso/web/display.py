"""How money, currencies, categories, policy flags, receipt limits and payments read on
the employee pages."""

from collections.abc import Iterable, Sequence
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from markupsafe import Markup

from contoso.categories.schemas import CategoryRead, CategoryRef
from contoso.currency_codes import CURRENCIES_IN_USE, minor_units, name
from contoso.formatting import LOCALE, count, moment, money, plain_money, rate_of
from contoso.models import EDITABLE, TicketFlag
from contoso.payments.schemas import Money
from contoso.receipts.files import JPEG, PDF, PNG, WEBP
from contoso.tickets.display import flag_reason
from contoso.tickets.schemas import TicketRead
from contoso.tickets.workflow import STATUSES, TRANSITIONS, Actor, Transition

# What the file input offers; phones then propose the camera or their files.
RECEIPT_ACCEPT = ",".join(kind.content_type for kind in (JPEG, PNG, WEBP, PDF))


# Options of a <select>, or named groups of them (an <optgroup> each).
Options = list[tuple[str, str]]
OptionGroups = list[tuple[str, Options]]


def currency_label(code: str) -> str:
    """`EUR` as a currency <select> offers it: `EUR — Euro`."""
    return f"{code} — {name(code)}"


def currency_groups(company: str, rated: Iterable[str], current: str | None = None) -> OptionGroups:
    """The currency <select>'s options in three groups: the company's currency (most
    tickets are in it, and it is the default), then the currencies with a recorded
    exchange rate (the ones a ticket can be filed in without asking an employer first),
    then every other currency in use, by code. A ticket's `current` currency stays
    among them even if it is no longer in use, so saving an edit never changes it."""
    offered = CURRENCIES_IN_USE | ({current} if current else set())
    with_rates = sorted(set(rated) & offered - {company})
    others = sorted(offered - {company} - set(with_rates))
    groups: OptionGroups = [("Company currency", [(company, currency_label(company))])]
    if with_rates:
        groups.append(
            ("With an exchange rate", [(code, currency_label(code)) for code in with_rates])
        )
    groups.append(
        (
            "Other currencies (an employer adds the rate first)",
            [(code, currency_label(code)) for code in others],
        )
    )
    return groups


def amount_example(currency: str) -> str:
    """A typical amount written with `currency`'s decimals, for a placeholder: `12.50`,
    `1500` (JPY), `12.500` (KWD)."""
    example = Decimal("12.5") if minor_units(currency) else Decimal(1500)
    return plain_money(example, currency)


# What an owner may do with their own ticket, besides editing it: a button each on the
# pages, and a route each (`web.ticket_page`).
OWNER_ACTIONS = [t for t in TRANSITIONS.values() if t.by is Actor.OWNER and not t.own_door]


def owner_actions(ticket: TicketRead) -> list[Transition]:
    """The owner's actions the ticket's status allows, as the pages offer them."""
    return [t for t in OWNER_ACTIONS if ticket.status in t.sources]


def editable(ticket: TicketRead) -> bool:
    """Whether its owner may still change the ticket (its fields, its receipts)."""
    return ticket.status in EDITABLE


def ticket_money(ticket: TicketRead) -> Markup:
    """The amount as spent, with its currency's symbol and decimals: `¥1,500`."""
    return Markup('<strong class="amount">{}</strong>').format(
        money(ticket.amount, ticket.currency)
    )


def conversion_note(ticket: TicketRead, company: str) -> Markup | None:
    """For a ticket in a currency other than `company`, what it comes to in the
    company's currency and at which rate: `Reimbursed as $9.50 at 1 JPY = $0.006336,
    the rate of 2026-11-20`; None for a ticket in the company's own."""
    if ticket.currency == company:
        return None
    lead = STATUSES[ticket.status].amount_lead
    return Markup("{} <strong>{}</strong> at {}, the rate of {}").format(
        lead.capitalize(),
        money(ticket.company_amount, company),
        rate_of(ticket.exchange_rate, ticket.currency, company),
        ticket.rate_date,
    )


def ticket_summary(ticket: TicketRead, company: str) -> str:
    """The amount as a notice names it: `¥1,500 (reimbursed as $9.50)`, `$12.50`."""
    spent = money(ticket.amount, ticket.currency)
    if ticket.currency == company:
        return spent
    lead = STATUSES[ticket.status].amount_lead
    return f"{spent} ({lead} {money(ticket.company_amount, company)})"


def category_label(category: CategoryRead, company: str) -> str:
    """The name with the limits (in the company's currency, `company`) an employee
    should know before filing: `Travel (up to $1,500.00; receipt above $25.00)`."""
    limits = []
    if category.max_amount is not None:
        limits.append(f"up to {money(category.max_amount, company)}")
    if category.receipt_required_above is not None:
        # Every amount is above zero: a limit of zero means always.
        limits.append(
            "receipt required"
            if category.receipt_required_above == 0
            else f"receipt above {money(category.receipt_required_above, company)}"
        )
    return f"{category.name} ({'; '.join(limits)})" if limits else category.name


def category_options(
    categories: Sequence[CategoryRead], company: str, current: CategoryRef | None = None
) -> list[tuple[int, str]]:
    """(id, label) for a category <select>. A ticket's `current` category stays among
    them even once retired, so saving an edit never moves the ticket by accident."""
    options = [(category.id, category_label(category, company)) for category in categories]
    if current is not None and all(category.id != current.id for category in categories):
        options.insert(0, (current.id, f"{current.name} (no longer offered)"))
    return options


def default_category_id(categories: Sequence[CategoryRead]) -> int | None:
    return next((category.id for category in categories if category.is_default), None)


def flag_notes(
    ticket: TicketRead, company: str, categories: Sequence[CategoryRead] = ()
) -> list[str]:
    """The ticket's flags as a person reads them, with its category's limits (in
    `company`, the company's currency) when it is among `categories` (the ones on offer)."""
    policy = next((c for c in categories if c.id == ticket.category.id), None)
    limits = (policy.max_amount, policy.receipt_required_above) if policy else (None, None)
    notes = []
    for flag in map(TicketFlag, ticket.flags):
        note = flag_reason(flag, ticket.category.name, company, *limits)
        if flag is TicketFlag.POSSIBLE_DUPLICATE:
            note += " " + ", ".join(f"#{other}" for other in ticket.duplicate_of)
        notes.append(note)
    return notes


def size_limit(size: int) -> str:
    """A size limit in MB (MiB) or, below that, KB, as the receipt refusals state it:
    `10 MB`."""
    unit, scale = ("MB", 1024 * 1024) if size >= 1024 * 1024 else ("KB", 1024)
    value = (Decimal(size) / scale).quantize(Decimal("0.1"), rounding=ROUND_FLOOR)
    return f"{format_decimal(value, format='#,##0.#', locale=LOCALE)} {unit}"


def _tickets(money: Money) -> str:
    return f"{count(money.tickets)} ticket{'' if money.tickets == 1 else 's'}"


def owed_summary(owed: Money) -> Markup:
    """`Owed to you: $1,234.50 (3 tickets approved, not yet paid)`, or that nothing is."""
    if not owed.tickets:
        return Markup("Nothing owed to you right now.")
    return Markup("Owed to you: <strong>{}</strong> ({} approved, not yet paid)").format(
        money(owed.amount, owed.currency), _tickets(owed)
    )


def paid_summary(paid: Money) -> Markup:
    """`Paid this year: $5,678.00 (12 tickets)`, or that nothing was yet."""
    if not paid.tickets:
        return Markup("Nothing paid to you yet this year.")
    return Markup("Paid this year: <strong>{}</strong> ({})").format(
        money(paid.amount, paid.currency), _tickets(paid)
    )


def payment_note(ticket: TicketRead, zone: ZoneInfo) -> Markup | None:
    """When, in `zone`, and under which reference a paid ticket was paid:
    `Paid on 2026-11-28 14:03 UTC · ref SEPA-2026-11-28`; None for an unpaid one."""
    if ticket.paid_at is None or ticket.payment is None:
        return None
    return Markup(
        'Paid on <time datetime="{}">{}</time> · '
        '<span class="payment-reference">ref <bdi>{}</bdi></span>'
    ).format(ticket.paid_at.isoformat(), moment(ticket.paid_at, zone), ticket.payment.reference)
