"""Schemathesis hooks for the contract's story run (`test_contract.py`): the stateful phase
walking the OpenAPI links as an employee and an employer together, so that a ticket one
files the other can decide, pay or send back, and the first resubmit.

- Each operation is called with the token of the role that may use it (an employer's for
  the employer-only ones, the employee's for the rest).
- Generated bodies of positive cases (negative ones are left as generated, to be
  refused) are steered past the rules the schema can only state in words (the
  ones `contract_checks` lets through as documented refusals): a purchase date or a
  rate's first day after today becomes today, an amount worth more than one ticket may
  claim becomes a small one, a currency with no rate (or, for a rate, the company's
  own) is left out or swapped, a category that may not exist is left out, and a receipt
  is a real PDF. Everything else is as generated. Without this, nearly every random
  filing is refused and the walk stops at its first step.
- Lists are asked for from their first item (a random offset is past the last one, and
  an empty page links nowhere), and the story's employee is never the one suspended (its
  token would end with it).
- Every call is written to CONTRACT_CALLS (one "METHOD /path status" per line), for the
  test to see which operations the walk reached.
"""

import os
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

import schemathesis
from schemathesis.generation.modes import GenerationMode

from tests.receipts.test_endpoints import MINIMAL_PDF
from tests.reliability.contract_checks import schema_valid_request_accepted  # noqa: F401

EMPLOYER_OPERATIONS = {
    # An employee sees active categories only: what the employer creates inactive is
    # read back by the employer.
    "GET /api/categories",
    "GET /api/categories/{category_id}",
    "POST /api/invitations",
    "POST /api/tickets/decisions",
    "POST /api/tickets/{ticket_id}/approve",
    "POST /api/tickets/{ticket_id}/deny",
    "POST /api/tickets/{ticket_id}/request-changes",
    "GET /api/employees",
    "POST /api/employees/{employee_id}/suspend",
    "POST /api/employees/{employee_id}/reactivate",
    "POST /api/categories",
    "PATCH /api/categories/{category_id}",
    "POST /api/payments",
    "GET /api/payments",
    "GET /api/payments/{payment_id}",
    "GET /api/payments/{payment_id}/export",
    "POST /api/exchange-rates",
}
# The company's currency in the test settings, and one with rates recorded before the run.
COMPANY_CURRENCY = "USD"
RATED_CURRENCY = "EUR"


# A receipt as schemathesis sends a file it generated: text (so it re-validates against
# the schema as the generated one did), here an all-ASCII PDF the server accepts.
RECEIPT = MINIMAL_PDF.decode("ascii")
# An id no account has (within bigint, as the schema asks).
NOBODY = 2**62


@schemathesis.auth(refresh_interval=None)
class RoleByOperation:
    """The employer's token for what only employers do, the employee's for the rest."""

    def get(self, case: Any, context: Any) -> str:
        role = "EMPLOYER" if case.operation.label in EMPLOYER_OPERATIONS else "EMPLOYEE"
        return os.environ[f"CONTRACT_{role}_TOKEN"]

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


def _today() -> str:
    # The server's "today" is the one of UTC+14, where the day comes first.
    return (datetime.now(UTC) + timedelta(hours=14)).date().isoformat()


def _past(value: object) -> object:
    """A date that is not after today: the value, or today."""
    if isinstance(value, str):
        try:
            if date.fromisoformat(value) <= date.fromisoformat(_today()):
                return value
        except ValueError:
            return value
    return _today() if isinstance(value, str) else value


def _amount(value: object) -> object:
    """An amount the rules take in the company's currency or the rated one: text with
    two decimals, above 0 and at most 1,000 (the generated digits kept where they can be)."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return value
    if not amount.is_finite() or amount <= 0:
        return value
    if amount > 1000:
        amount = amount % 1000 + 1
    return str(max(amount.quantize(Decimal("0.01"), rounding=ROUND_DOWN), Decimal("0.01")))


def _steered_ticket(body: Any, *, patch: bool) -> Any:
    if not isinstance(body, dict):
        return body
    body = dict(body)
    if "spent_on" in body:
        body["spent_on"] = _past(body["spent_on"])
    if "amount" in body:
        body["amount"] = _amount(body["amount"])
    currency = body.get("currency")
    if isinstance(currency, str) and currency.upper() not in (COMPANY_CURRENCY, RATED_CURRENCY):
        body.pop("currency") if patch else body.update(currency=None)
    if body.get("category_id") not in (None, 1):
        body.pop("category_id") if patch else body.update(category_id=None)
    return body


def _steered_rate(body: Any) -> Any:
    if not isinstance(body, dict):
        return body
    body = dict(body)
    if "valid_from" in body:
        body["valid_from"] = _past(body["valid_from"])
    if str(body.get("currency", "")).upper() == COMPANY_CURRENCY:
        body["currency"] = RATED_CURRENCY
    return body


def _steered_receipt(body: Any) -> Any:
    return body | {"file": RECEIPT} if isinstance(body, dict) and "file" in body else body


# What each operation's body needs, where the schema can only say it in words.
_STEERING: dict[str, Callable[[Any], Any]] = {
    "POST /api/tickets": lambda body: _steered_ticket(body, patch=False),
    "PATCH /api/tickets/{ticket_id}": lambda body: _steered_ticket(body, patch=True),
    "POST /api/exchange-rates": _steered_rate,
    "POST /api/tickets/{ticket_id}/receipts": _steered_receipt,
}
_LISTS = {"GET /api/tickets", "GET /api/employees", "GET /api/payments", "GET /api/categories"}


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    """At call time, once links have filled ids in: steer what a positive case sends (a
    negative one must stay as generated, or its refusal could not be checked)."""
    label = case.operation.label
    employee = str((case.path_parameters or {}).get("employee_id"))
    if label == "POST /api/employees/{employee_id}/suspend" and employee == os.environ.get(
        "CONTRACT_EMPLOYEE_ID"
    ):
        # Suspension ends every token of the account: the story's employee would act
        # no more. Others (those the walk registers) are suspended as asked.
        case.path_parameters["employee_id"] = NOBODY
    if case.meta is None or case.meta.generation.mode is not GenerationMode.POSITIVE:
        return
    if label in _STEERING:
        case.body = _STEERING[label](case.body)
    if label in _LISTS and isinstance(case.query, dict) and "offset" in case.query:
        # A random offset is past the last item nearly always: an empty page links nowhere.
        case.query["offset"] = 0


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    with open(os.environ["CONTRACT_CALLS"], "a") as calls:
        calls.write(f"{case.operation.label} {response.status_code}\n")
