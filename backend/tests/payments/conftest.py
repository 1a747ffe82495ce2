from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from httpx import AsyncClient

from tests.support.factories import Account, Factory

Approved = Callable[..., Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def approved(client: AsyncClient, factory: Factory) -> Approved:
    """`await approved(owner, employer, count=1, **fields)`: `count` tickets of `owner`
    approved by `employer` in one bulk decision, returned as filed (ids and amounts)."""

    async def approve(
        owner: Account, employer: Account, count: int = 1, **fields: Any
    ) -> list[dict[str, Any]]:
        tickets = [await factory.ticket(owner, **fields) for _ in range(count)]
        ids = [ticket["id"] for ticket in tickets]
        decided = await client.post(
            "/api/tickets/decisions",
            json={"ticket_ids": ids, "decision": "approve"},
            headers=employer.headers,
        )
        assert decided.json()["decided"] == ids, decided.text
        return tickets

    return approve
