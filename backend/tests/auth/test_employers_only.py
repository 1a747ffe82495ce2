"""Employer-only operations refuse an employee (403) before looking at what they sent:
a malformed body tells them they may not do this, not what is wrong with the body."""

import pytest

# Employer-only operations with a body an employee might get wrong.
MALFORMED = [
    ("POST", "/api/categories", {"name": ""}),
    ("PATCH", "/api/categories/1", {"max_amount": "lots"}),
    ("POST", "/api/exchange-rates", {"currency": 3}),
    ("POST", "/api/payments", {"ticket_ids": "all"}),
    ("POST", "/api/tickets/decisions", {"decision": "maybe"}),
    ("POST", "/api/tickets/1/approve", {"note": 7}),
    ("POST", "/api/tickets/1/deny", {"note": 7}),
    ("POST", "/api/tickets/1/request-changes", {}),
    ("POST", "/api/invitations", {"email": "not an address"}),
    ("POST", "/api/employees/not-a-number/suspend", None),
    ("GET", "/api/payments/not-a-number", None),
]


@pytest.mark.parametrize(("method", "path", "body"), MALFORMED)
async def test_an_employee_is_refused_before_the_body_is_read(client, factory, method, path, body):
    alice = await factory.employee()

    response = await client.request(method, path, json=body, headers=alice.headers)

    assert response.status_code == 403, response.text
    assert response.json()["detail"].startswith("Only employers can ")


async def test_an_employer_still_gets_the_validation_error(client, factory):
    boss = await factory.employer()

    response = await client.post("/api/categories", json={"name": ""}, headers=boss.headers)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]
