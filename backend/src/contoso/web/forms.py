"""Turning HTML form posts into the API's schemas, and their errors into per-field messages."""

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

M = TypeVar("M", bound=BaseModel)


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
