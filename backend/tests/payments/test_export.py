"""The payment file in any company currency: amounts as plain numbers with the
currency's own decimals, and the currency named on every line."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from contoso.payments.export import payment_csv
from contoso.payments.schemas import EmployeePaid, PaymentRead
from contoso.tickets.schemas import Person


def batch(currency: str, *amounts: Decimal) -> PaymentRead:
    employees = [
        EmployeePaid(
            id=number,
            username=f"Employee {number}",
            email=f"e{number}@example.com",
            amount=amount,
            tickets=[number * 10],
        )
        for number, amount in enumerate(amounts, start=1)
    ]
    return PaymentRead(
        id=7,
        reference="RUN-7",
        created_at=datetime(2026, 11, 22, tzinfo=UTC),
        created_by=Person(id=99, username="Boss"),
        tickets=len(employees),
        total=sum(amounts, Decimal(0)),
        currency=currency,
        paid=[employee.tickets[0] for employee in employees],
        employees=employees,
    )


def lines(payment: PaymentRead) -> list[list[str]]:
    response = payment_csv(payment, ZoneInfo("UTC"))
    assert bytes(response.body).startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(bytes(response.body).decode("utf-8-sig"))))


@pytest.mark.parametrize(
    ("currency", "amounts", "written"),
    [
        ("USD", [Decimal("1249.99"), Decimal("0.5")], ["1249.99", "0.50"]),
        ("JPY", [Decimal("150000"), Decimal("1500")], ["150000", "1500"]),
        ("KWD", [Decimal("1.234"), Decimal("12.5")], ["1.234", "12.500"]),
    ],
)
def test_amounts_have_the_company_currencys_decimals_and_its_code(currency, amounts, written):
    rows = lines(batch(currency, *amounts))

    assert rows[0] == ["Employee", "Email", "Amount", "Currency", "Tickets", "Reference"]
    assert [(row[2], row[3]) for row in rows[1:]] == [(amount, currency) for amount in written]
