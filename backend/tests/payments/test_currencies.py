"""A payment batch of tickets spent in several currencies pays each employee the sum of
their tickets' company amounts, in the company currency, to the cent."""

from datetime import date, timedelta
from decimal import Decimal

SINCE = date.today() - timedelta(days=30)


async def test_a_batch_in_dollars_euros_and_yen_pays_the_company_amounts(client, factory, approved):
    alice, bob = await factory.employee(username="alice"), await factory.employee(username="Bob")
    boss = await factory.employer()
    await factory.rate(boss, "EUR", "1.1512", SINCE)
    await factory.rate(boss, "JPY", "0.006336066927", SINCE)
    [dollars] = await approved(alice, boss, amount="12.50")
    [euros] = await approved(alice, boss, currency="EUR", amount="33.33")  # 38.369496
    [yen] = await approved(bob, boss, currency="JPY", amount="25000")  # 158.401673175
    owed = (await client.get("/api/users/me", headers=bob.headers)).json()["owed"]

    response = await client.post(
        "/api/payments",
        json={"ticket_ids": [dollars["id"], euros["id"], yen["id"]]},
        headers=boss.headers,
    )

    assert owed == {"tickets": 1, "amount": "158.40", "currency": "USD"}
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["tickets"], Decimal(report["total"]), report["currency"]) == (
        3,
        Decimal("209.27"),  # 12.50 + 38.37 + 158.40
        "USD",
    )
    assert [(e["username"], e["amount"], e["tickets"]) for e in report["employees"]] == [
        ("alice", "50.87", [dollars["id"], euros["id"]]),
        ("Bob", "158.40", [yen["id"]]),
    ]
    fetched = await client.get(f"/api/payments/{report['id']}", headers=boss.headers)
    assert fetched.json()["total"] == report["total"]
    me = (await client.get("/api/users/me", headers=alice.headers)).json()
    assert me["owed"] == {"tickets": 0, "amount": "0.00", "currency": "USD"}
    assert me["paid_this_year"] == {"tickets": 2, "amount": "50.87", "currency": "USD"}
