"""What the filing and editing forms share: their fields (derived from `TicketCreate`),
their help texts, and the receipt files they carry (counted, refused and cleaned before
anything is stored)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from fastapi import Request
from pydantic.fields import FieldInfo
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile

from contoso.browser.forms import form_values, split_lines
from contoso.currencies.service import currencies_with_rates
from contoso.database import released
from contoso.errors import (
    InvalidField,
    TooLarge,
    TooManyUploads,
    UnprocessableFile,
    UnsupportedMediaType,
)
from contoso.formatting import plain_money
from contoso.models import User
from contoso.receipts.decoding import ReceiptCleaner
from contoso.receipts.files import ACCEPTED, CleanReceipt
from contoso.receipts.service import MAX_RECEIPTS_PER_TICKET
from contoso.tickets.fields import label
from contoso.tickets.schemas import TicketCreate, TicketRead
from contoso.validation import TextRules
from contoso.web.display import OptionGroups, amount_example, currency_groups, size_limit

# How a field is typed: a date picker; an amount (text, not type="number": no step to
# refuse 1.234 KWD or to offer decimals for JPY); one line or several of text; a list,
# one item per line; or a <select> of the page's options.
Widget = Literal["date", "amount", "text", "textarea", "lines", "choice"]


@dataclass(frozen=True)
class FormField:
    """One field of the filing and editing forms: a field of `TicketCreate`, asked for
    with its label (`tickets.fields`) and typed with the widget its type calls for."""

    name: str
    label: str
    widget: Widget
    required: bool
    max_length: int | None = None

    @property
    def attrs(self) -> str:
        """The input's attributes that hold the field's rules where a browser can."""
        said = ['inputmode="decimal"', 'autocomplete="off"'] if self.widget == "amount" else []
        said += ["required"] if self.required else []
        said += [f'maxlength="{self.max_length}"'] if self.max_length else []
        return " ".join(said)


# What the forms ask where a field's label would say less.
_PROMPTS = {
    "spent_on": "Date of purchase",
    "description": "What was it for?",
    "links": "Links to the purchase (one per line)",
}
# The forms' first fields: the amount before the currency it is in, the category with
# them; the rest follow in `TicketCreate`'s order.
_FIRST = ("spent_on", "amount", "currency", "category_id")


def _text_rules(field: FieldInfo) -> TextRules | None:
    inner = [
        meta
        for arg in get_args(field.annotation)
        if get_origin(arg) is Annotated
        for meta in arg.__metadata__
    ]
    return next((meta for meta in [*field.metadata, *inner] if isinstance(meta, TextRules)), None)


def _widget(field: FieldInfo, rules: TextRules | None) -> Widget:
    if rules is not None:
        return "textarea" if rules.multiline else "text"
    kind = field.annotation
    present = [arg for arg in get_args(kind) if arg is not type(None)]
    if get_origin(kind) in (Union, UnionType) and len(present) == 1:
        kind = present[0]
    if get_origin(kind) is Annotated:
        kind = get_args(kind)[0]
    if kind is date:
        return "date"
    if kind is Decimal:
        return "amount"
    if get_origin(kind) is list:
        return "lines"
    # A code or a record's id: chosen among what the page offers.
    return "choice"


def _form_field(name: str) -> FormField:
    field = TicketCreate.model_fields[name]
    rules = _text_rules(field)
    return FormField(
        name,
        _PROMPTS.get(name) or label(name),
        _widget(field, rules),
        field.is_required(),
        rules.max_length if rules else None,
    )


# The form's fields as `TicketCreate` parses them (the currency before the amount).
TICKET_FIELDS = tuple(TicketCreate.model_fields)
# The forms' fields as a person fills them in.
FORM_FIELDS = [
    _form_field(name)
    for name in sorted(TICKET_FIELDS, key=lambda n: _FIRST.index(n) if n in _FIRST else len(_FIRST))
]
RECEIPTS = "receipts"
# A browser cannot be told to pick the same files again: say so beside the refusal.
FILES_DROPPED = "Nothing was saved; choose your receipt files again."
# Why a form's receipt files were refused, each said beside the file input.
FILE_REFUSALS = (TooLarge, UnsupportedMediaType, UnprocessableFile, TooManyUploads)


def company_currency(request: Request) -> str:
    """The company's currency (the database records the same: start-up checks it)."""
    company: str = request.app.state.settings.company_currency
    return company


async def currency_choices(
    session: AsyncSession, company: str, current: str | None = None
) -> OptionGroups:
    """The currency <select>'s groups (`currency_groups`), `current` kept among them."""
    return currency_groups(company, set(await currencies_with_rates(session)), current)


def currency_help(company: str) -> str:
    return (
        f"As on the receipt. You are reimbursed in {company}, at the exchange rate of the "
        "purchase date."
    )


def amount_help(company: str) -> str:
    # The company's own, then two whose decimals surprise: none, and three.
    examples = dict.fromkeys((company, "JPY", "KWD"))
    written = ", ".join(f"{amount_example(code)} {code}" for code in examples)
    return f"As on the receipt, with its currency's decimals: {written}."


def receipts_help(request: Request) -> str:
    max_bytes: int = request.app.state.settings.receipt_max_bytes
    return (
        f"Photos or scans: {ACCEPTED}, up to {size_limit(max_bytes)} each, "
        f"at most {MAX_RECEIPTS_PER_TICKET} per ticket."
    )


# What a ticket's card (_ticket.html) shows in its own way of what its owner filed.
CARD_SHOWS = {"spent_on", "amount", "currency", "category_id", "description", "links"}


def filed_elsewhere(ticket: TicketRead) -> list[tuple[str, str, str]]:
    """(name, label, value) of what `ticket`'s owner filed that its card does not show in
    its own way (CARD_SHOWS), each that is not blank: the card lists them, so a new
    field shows there too."""
    shown = []
    for field in FORM_FIELDS:
        value = None if field.name in CARD_SHOWS else _as_filed(ticket, field.name)
        if value not in (None, "", []):
            text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            shown.append((field.name, label(field.name), text))
    return shown


def _as_filed(ticket: TicketRead, name: str) -> Any:
    """`ticket`'s value of the form's field `name`; a chosen record (`category_id`) by
    the id of the ticket's nested object."""
    if name in TicketRead.model_fields:
        return getattr(ticket, name)
    return getattr(ticket, name.removesuffix("_id")).id


def ticket_values(form: FormData) -> dict[str, str]:
    """The ticket form's fields as typed; the currency as its <select> offers it (a
    hand-made post may say `eur`)."""
    values = form_values(form, *TICKET_FIELDS)
    values["currency"] = values["currency"].strip().upper()
    return values


def ticket_data(values: dict[str, str]) -> dict[str, Any]:
    """The form's ticket fields for TicketCreate or TicketUpdate, in `TicketCreate`'s
    order (the amount's decimals are checked against the currency before it): text as
    typed, a list one item per line. A field left empty is left out when it may be
    absent (the company's currency and the default category when filing; unchanged
    when editing), else sent as nothing, and refused."""
    data: dict[str, Any] = {}
    for field in sorted(FORM_FIELDS, key=lambda field: TICKET_FIELDS.index(field.name)):
        typed = values[field.name]
        if field.widget == "lines":
            data[field.name] = split_lines(typed)
        elif typed or field.widget in ("text", "textarea"):
            data[field.name] = typed
        elif field.required:
            data[field.name] = None
    return data


def edit_values(ticket: TicketRead) -> dict[str, str]:
    """The form's fields as `ticket` has them, to edit it: the amount with its
    currency's decimals, a chosen record by its id, a list one item per line."""
    values = {}
    for field in FORM_FIELDS:
        value = _as_filed(ticket, field.name)
        if field.widget == "lines":
            values[field.name] = "\n".join(value)
        else:
            values[field.name] = "" if value is None else str(value)
    return values | {"amount": plain_money(ticket.amount, ticket.currency)}


def field_error(exc: InvalidField) -> dict[str, str]:
    return {exc.field: exc.message}


def _chosen_files(form: FormData) -> list[UploadFile]:
    # With no file chosen a browser still sends the field: one empty part without a name.
    return [
        value
        for value in form.getlist(RECEIPTS)
        if isinstance(value, UploadFile) and (value.filename or value.size)
    ]


def receipts_over_limit(form: FormData, attached: int = 0) -> dict[str, str]:
    """A word for the receipts field when the form chose more than the ticket has room
    for (MAX_RECEIPTS_PER_TICKET beside the `attached` ones), before any file is read;
    none otherwise. The receipts service holds the limit under the ticket's lock."""
    chosen = len(_chosen_files(form))
    room = MAX_RECEIPTS_PER_TICKET - attached
    if chosen <= room:
        return {}
    has = f"this one has {attached} and " if attached else ""
    again = f"choose at most {room} files again" if room > 0 else "delete one before adding another"
    return {
        RECEIPTS: f"A ticket can have at most {MAX_RECEIPTS_PER_TICKET} receipts; {has}you "
        f"chose {chosen}. Nothing was saved: {again} (one PDF can hold several receipts)."
    }


def refused(form: FormData, errors: dict[str, str]) -> dict[str, str]:
    """`errors`, and a word on the file input when files were chosen: a page shown
    again cannot keep them."""
    if _chosen_files(form):
        return {RECEIPTS: FILES_DROPPED} | errors
    return errors


@asynccontextmanager
async def cleaned_receipts(
    session: AsyncSession, cleaner: ReceiptCleaner, user: User, form: FormData
) -> AsyncIterator[list[CleanReceipt]]:
    """The form's receipt files, each checked and cleaned before anything is stored (a
    bad file fails fast), and closed on the way out; the form counts as one upload in
    flight of `user` until then. While files are cleaned the request holds no database
    connection (`released`): call this before anything is written. One of
    FILE_REFUSALS for the first refused file."""
    chosen = _chosen_files(form)
    if not chosen:
        yield []
        return
    cleaned: list[CleanReceipt] = []
    try:
        async with cleaner.turn(user.id):
            async with released(session):
                for upload in chosen:
                    cleaned.append(await cleaner.clean(upload.file, upload.filename))
            yield cleaned
    finally:
        for receipt in cleaned:
            receipt.file.close()


def receipts_in_words(count: int) -> str:
    return f"{count} receipt{'' if count == 1 else 's'}"
