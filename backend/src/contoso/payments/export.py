"""A payment batch as a CSV file for the bank or the accounts: the one builder behind
the API's download and the console's."""

from datetime import date
from zoneinfo import ZoneInfo

from starlette.responses import Response

from contoso.payments.schemas import PaymentRead
from contoso.spreadsheets import Cell, csv_file

HEADERS = ["Employee", "Email", "Amount", "Tickets", "Reference"]


def payment_csv(payment: PaymentRead, zone: ZoneInfo) -> Response:
    """One line per employee: name, email, amount, ticket ids, the batch's reference."""
    rows: list[list[Cell]] = [
        [
            employee.username,
            employee.email,
            employee.amount,
            [str(ticket) for ticket in employee.tickets],
            payment.reference,
        ]
        for employee in payment.employees
    ]
    return csv_file(HEADERS, rows, zone, f"payment-{payment.id}-{date.today().isoformat()}.csv")
