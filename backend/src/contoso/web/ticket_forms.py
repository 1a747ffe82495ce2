"""What the filing and editing forms share: their fields, their help texts, and the
receipt files they carry (counted, refused and cleaned before anything is stored)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Request
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
from contoso.models import User
from contoso.receipts.decoding import ReceiptCleaner
from contoso.receipts.files import ACCEPTED, CleanReceipt
from contoso.receipts.service import MAX_RECEIPTS_PER_TICKET
from contoso.web.display import OptionGroups, amount_example, currency_groups, size_limit

TICKET_FIELDS = ("spent_on", "currency", "amount", "description", "links", "category_id")
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


def ticket_values(form: FormData) -> dict[str, str]:
    """The ticket form's fields as typed; the currency as its <select> offers it (a
    hand-made post may say `eur`)."""
    values = form_values(form, *TICKET_FIELDS)
    values["currency"] = values["currency"].strip().upper()
    return values


def ticket_data(values: dict[str, str]) -> dict[str, Any]:
    """The form's ticket fields for TicketCreate or TicketUpdate; an empty currency or
    category is left out (the company's currency and the default category when filing,
    unchanged when editing). The currency comes first: the amount's decimals are
    checked against it."""
    data: dict[str, Any] = {"spent_on": values["spent_on"] or None}
    if values["currency"]:
        data["currency"] = values["currency"]
    data |= {
        "amount": values["amount"] or None,
        "description": values["description"],
        "links": split_lines(values["links"]),
    }
    if values["category_id"]:
        data["category_id"] = values["category_id"]
    return data


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
