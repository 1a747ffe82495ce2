"""The addresses an employer hands the console to invite: pasted text, or a CSV file."""

import csv
import io
import re

from contoso.errors import InvalidField

# Invitations one submission may make: each is a few statements and an email.
MAX_ADDRESSES = 500
# A first row that names the column instead of holding an address.
_HEADERS = {"email", "e-mail", "email address", "e-mail address", "address", "mail"}
_SEPARATORS = re.compile(r"[\n\r,;]+")


def pasted(text: str) -> list[str]:
    """The addresses in `text`, one per line or separated by commas or semicolons, in
    order, as typed (the invitation checks them)."""
    return [part.strip() for part in _SEPARATORS.split(text) if part.strip()]


def from_csv(content: bytes, field: str) -> list[str]:
    """The first cell of each row of a CSV file (a one-column list; a header row naming
    the column is skipped). InvalidField on `field` when it is not UTF-8 text."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidField(
            field, 'This file is not UTF-8 text: save it as "CSV UTF-8" and upload it again.'
        ) from None
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error:
        rows = None
    if rows is None or "\x00" in text:
        raise InvalidField(field, "This file is not a CSV file: upload a one-column list.")
    cells = [row[0].strip() for row in rows if row and row[0].strip()]
    if cells and cells[0].lower() in _HEADERS:
        cells = cells[1:]
    return cells


def to_invite(*lists: list[str], field: str) -> list[str]:
    """The addresses of `lists` together, each once, in order; InvalidField on `field`
    when there are none or more than MAX_ADDRESSES."""
    addresses = list(dict.fromkeys(address for listed in lists for address in listed))
    if not addresses:
        raise InvalidField(field, "Enter at least one email address, or upload a CSV file of them.")
    if len(addresses) > MAX_ADDRESSES:
        raise InvalidField(
            field,
            f"{len(addresses)} addresses is more than {MAX_ADDRESSES} at once: split the "
            f"list and invite them in parts.",
        )
    return addresses
