"""Schemathesis hooks for the contract run (`test_contract.py`, loaded through
SCHEMATHESIS_HOOKS): the built-in "schema-valid request accepted" check, with the only
refusals JSON Schema cannot state and the schema documents in words instead.

Each is a rule on data or time, not on the shape of the request:
- a purchase date or a rate's first day in the future (the schema cannot know today);
- an amount with more decimals than its currency has (JPY none, USD two, KWD three:
  the currency is another field, or the company's when omitted), or a JSON number
  with more decimals than any currency has (a float has no exact decimals);
- an amount worth more than one ticket may claim (1,000,000) in the company's currency
  at its date's rate (the rate is recorded data);
- a ticket in a currency with no exchange rate recorded for its date, an exchange
  rate for the company's own currency, or a category that does not exist or is
  inactive (each depends on what is recorded);
- a receipt whose bytes are no JPEG, PNG, WebP or PDF (415: the schema says binary);
- a password reset token the server did not issue, or one used, expired or replaced
  (400: only the emailed link's token works, and the schema says so).
Any other refusal of a schema-valid request still fails the run.
"""

import re

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

DATA_RULES = re.compile(
    "|".join(
        (
            r"cannot be in the future",
            r"decimal places",
            r"has no minor units",
            r"with at most \d+ decimals",
            r"There is no exchange rate from",
            r"is the company's currency",
            r"There is no active category",
            r"one ticket may claim",
        )
    )
)


def documented_refusal(operation: str, status: int, body: object) -> bool:
    """Whether an answer refuses a schema-valid request for a reason only words state."""
    if status == 415 and operation == "POST /api/tickets/{ticket_id}/receipts":
        return True
    if status == 400 and operation == "POST /api/auth/password-reset/confirm":
        return isinstance(body, dict) and "Ask for a new link" in str(body.get("detail"))
    if status != 422 or not isinstance(body, dict) or not isinstance(body.get("detail"), list):
        return False
    # A PATCH field is "value or nothing": Pydantic adds, beside the value's own error,
    # that the input is not None either (loc ending in "none").
    errors = [error for error in body["detail"] if error.get("type") != "none_required"]
    return bool(errors) and all(DATA_RULES.search(str(error.get("msg", ""))) for error in errors)


@schemathesis.check
def schema_valid_request_accepted(ctx, response, case):
    """`positive_data_acceptance`, but for the refusals the schema documents in words."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except AssertionError:
        try:
            body = response.json()
        except ValueError:
            body = None
        if documented_refusal(case.operation.label, response.status_code, body):
            return None
        raise
