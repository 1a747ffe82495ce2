"""Small builders for test data, going through the public API like a user would."""

import itertools
from dataclasses import dataclass
from datetime import date
from typing import Any

from httpx import AsyncClient

from contoso.currency_codes import minor_units

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


@dataclass
class Account:
    id: int
    email: str
    username: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Factory:
    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    async def account(self, role: str = "employee", **fields: Any) -> Account:
        number = next(_numbers)
        body = {
            "email": f"{role}{number}@example.com",
            "username": f"{role.title()} {number}",
            "password": PASSWORD,
            "role": role,
        } | fields
        response = await self.client.post("/api/auth/register", json=body)
        assert response.status_code == 201, response.text
        payload = response.json()
        user = payload["user"]
        return Account(
            user["id"], user["email"], user["username"], user["role"], payload["access_token"]
        )

    async def employee(self, **fields: Any) -> Account:
        return await self.account("employee", **fields)

    async def employer(self, **fields: Any) -> Account:
        return await self.account("employer", **fields)

    async def ticket(
        self, owner: Account, currency: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """A pending ticket, in `currency` if given (the company's otherwise); unless
        told, each has its own amount, so tickets made here are never flagged as
        possible duplicates of each other by chance."""
        number = next(_numbers)
        whole = currency is not None and minor_units(currency.upper()) == 0
        body = {
            "spent_on": date.today().isoformat(),
            "amount": f"{1200 + number}" if whole else f"{12 + number}.50",
            "description": "Taxi to the client",
            "links": ["https://receipts.example.com/1"],
        } | fields
        if currency is not None:
            body["currency"] = currency
        response = await self.client.post("/api/tickets", json=body, headers=owner.headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def rate(
        self, employer: Account, currency: str, rate: str, valid_from: date | str
    ) -> dict[str, Any]:
        """An exchange rate recorded by `employer`: 1 `currency` buys `rate` of the
        company's currency from `valid_from` on."""
        body = {"currency": currency, "rate": rate, "valid_from": str(valid_from)}
        response = await self.client.post(
            "/api/exchange-rates", json=body, headers=employer.headers
        )
        assert response.status_code == 201, response.text
        return response.json()
