"""A payment batch as a CSV file for the bank or the accounts: the one builder behind
the API's download and the console's."""

from datetime import date
from zoneinfo import ZoneInfo

from starlette.responses import Response

from contoso.formatting import plain_money
from contoso.payments.schemas import PaymentRead
from contoso.spreadsheets import Cell, csv_file

# The currency in a column of its own, on every line: a bank's or an accounting
# system's import maps an amount column and a currency column, and never reads a
# currency out of a header.
HEADERS = ["Employee", "Email", "Amount", "Currency", "Tickets", "Reference"]


def payment_csv(payment: PaymentRead, zone: ZoneInfo) -> Response:
    """One line per employee: name, email, amount (a plain number with the currency's
    decimals: `1249.99`, `1500` in JPY), the currency (the company's, ISO 4217), ticket
    ids, the batch's reference."""
    rows: list[list[Cell]] = [
        [
            employee.username,
            employee.email,
            plain_money(employee.amount, payment.currency),
            payment.currency,
            [str(ticket) for ticket in employee.tickets],
            payment.reference,
        ]
        for employee in payment.employees
    ]
    return csv_file(HEADERS, rows, zone, f"payment-{payment.id}-{date.today().isoformat()}.csv")
