"""How categories, policy flags, receipt limits and payments read on the employee pages."""

from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from markupsafe import Markup

from contoso.categories.schemas import CategoryRead, CategoryRef
from contoso.formatting import LOCALE, amount, count, moment
from contoso.models import TicketFlag
from contoso.payments.schemas import Money
from contoso.receipts.files import JPEG, PDF, PNG, WEBP
from contoso.tickets.display import flag_reason
from contoso.tickets.schemas import TicketRead

# What the file input offers; phones then propose the camera or their files.
RECEIPT_ACCEPT = ",".join(kind.content_type for kind in (JPEG, PNG, WEBP, PDF))


def category_label(category: CategoryRead) -> str:
    """The name with the limits an employee should know before filing:
    `Travel (up to 1,500.00; receipt above 25.00)`."""
    limits = []
    if category.max_amount is not None:
        limits.append(f"up to {amount(category.max_amount)}")
    if category.receipt_required_above is not None:
        # Every amount is above zero: a limit of zero means always.
        limits.append(
            "receipt required"
            if category.receipt_required_above == 0
            else f"receipt above {amount(category.receipt_required_above)}"
        )
    return f"{category.name} ({'; '.join(limits)})" if limits else category.name


def category_options(
    categories: Sequence[CategoryRead], current: CategoryRef | None = None
) -> list[tuple[int, str]]:
    """(id, label) for a category <select>. A ticket's `current` category stays among
    them even once retired, so saving an edit never moves the ticket by accident."""
    options = [(category.id, category_label(category)) for category in categories]
    if current is not None and all(category.id != current.id for category in categories):
        options.insert(0, (current.id, f"{current.name} (no longer offered)"))
    return options


def default_category_id(categories: Sequence[CategoryRead]) -> int | None:
    return next((category.id for category in categories if category.is_default), None)


def flag_notes(ticket: TicketRead, categories: Sequence[CategoryRead] = ()) -> list[str]:
    """The ticket's flags as a person reads them, with its category's limits when it is
    among `categories` (the ones on offer)."""
    policy = next((c for c in categories if c.id == ticket.category.id), None)
    limits = (policy.max_amount, policy.receipt_required_above) if policy else (None, None)
    notes = []
    for flag in map(TicketFlag, ticket.flags):
        note = flag_reason(flag, ticket.category.name, *limits)
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
    """`Owed to you: 1,234.50 (3 tickets approved, not yet paid)`, or that nothing is."""
    if not owed.tickets:
        return Markup("Nothing owed to you right now.")
    return Markup("Owed to you: <strong>{}</strong> ({} approved, not yet paid)").format(
        amount(owed.amount), _tickets(owed)
    )


def paid_summary(paid: Money) -> Markup:
    """`Paid this year: 5,678.00 (12 tickets)`, or that nothing was yet."""
    if not paid.tickets:
        return Markup("Nothing paid to you yet this year.")
    return Markup("Paid this year: <strong>{}</strong> ({})").format(
        amount(paid.amount), _tickets(paid)
    )


def payment_note(ticket: TicketRead, zone: ZoneInfo) -> Markup | None:
    """When, in `zone`, and under which reference a paid ticket was paid:
    `Paid on 2026-11-28 14:03 UTC · ref SEPA-2026-11-28`; None for an unpaid one."""
    if ticket.paid_at is None or ticket.payment is None:
        return None
    return Markup(
        'Paid on <time datetime="{}">{}</time> · <span class="payment-reference">ref {}</span>'
    ).format(ticket.paid_at.isoformat(), moment(ticket.paid_at, zone), ticket.payment.reference)
