"""Turning HTML form posts into the API's schemas, and their errors into per-field messages."""

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from contoso.receipts.service import MAX_RECEIPTS_PER_TICKET
from contoso.validation import unreadable

M = TypeVar("M", bound=BaseModel)

# Our largest form has fewer than ten fields.
MAX_FORM_FIELDS = 100
# The most files a form may carry before it cannot be read at all: twice a ticket's
# receipts, so that a form with a few too many is still read, kept, and answered with
# the receipts' own limit beside its field (web.ticket_forms).
MAX_FORM_FILES = 2 * MAX_RECEIPTS_PER_TICKET
# Where the CSRF check leaves a form with files that it parsed (see CsrfMiddleware).
PARSED_FORM = "contoso.parsed_form"
# The email switch's field, on the employee's page and the console's dashboard: what to
# turn it to ("on" or "off").
EMAIL_NOTIFICATIONS = "email_notifications"
UNREADABLE_FORM = (
    "This form could not be read: it is malformed, has too many fields or files, or holds "
    "characters that are not text (NUL, half of a surrogate pair). Go back, reload the "
    "page and try again."
)


async def read_form(request: Request, *, max_files: int = 0) -> FormData:
    """The posted form; HTTPException(400) with UNREADABLE_FORM if it cannot be read
    (bad multipart, over MAX_FORM_FIELDS fields or `max_files` files, NUL or text that
    is not Unicode: PostgreSQL can store neither).

    Every form a person posts is read here: Starlette answers a bad multipart body with
    an HTTPException only for some flaws, python-multipart raises its own errors, and a
    multipart form may declare a charset that decodes to half of a surrogate pair."""
    parsed = request.scope.get(PARSED_FORM)
    try:
        form = parsed or await request.form(max_fields=MAX_FORM_FIELDS, max_files=max_files)
    except (HTTPException, MultiPartException, ValueError) as exc:
        # python-multipart's parse errors are ValueErrors.
        raise HTTPException(400, UNREADABLE_FORM) from exc
    fields = form.multi_items()
    files = [value for _, value in fields if isinstance(value, UploadFile)]
    if len(files) > max_files:
        await form.close()
        raise HTTPException(400, UNREADABLE_FORM)
    text = [(name, value) for name, value in fields if not isinstance(value, UploadFile)]
    if (
        len(fields) > MAX_FORM_FIELDS
        or unreadable(text) is not None
        or unreadable([upload.filename or "" for upload in files]) is not None
        or any("\x00" in name or "\x00" in str(value) for name, value in text)
    ):
        await form.close()
        raise HTTPException(400, UNREADABLE_FORM)
    return form


def form_values(form: FormData, *names: str) -> dict[str, str]:
    """The named text fields as typed (to re-fill the form after an error)."""
    return {name: str(form.get(name, "")) for name in names}


def split_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def field_errors(exc: ValidationError) -> dict[str, str]:
    """{field: message} for the first error of each field, worded for a person."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "form"
        message = error["msg"].removeprefix("Value error, ")
        errors.setdefault(field, message[:1].upper() + message[1:])
    return errors


def parse(schema: type[M], data: dict[str, Any]) -> tuple[M | None, dict[str, str]]:
    try:
        return schema.model_validate(data), {}
    except ValidationError as exc:
        return None, field_errors(exc)
