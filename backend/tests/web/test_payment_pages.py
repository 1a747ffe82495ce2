"""Payments on the employee pages: paid tickets say when and under which reference,
approved ones that they await payment, the summary says what is owed and what was paid
this year, and a paid ticket cannot be edited."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from httpx import ASGITransport, AsyncClient

from contoso.main import create_app
from tests.support.forms import submit_form
from tests.web.pages import log_in, text_of, ticket_item, words

REFERENCE = "SEPA-2026-11-28"


async def approve(client, boss, *tickets) -> None:
    for ticket in tickets:
        response = await client.post(f"/api/tickets/{ticket['id']}/approve", headers=boss.headers)
        assert response.status_code == 200, response.text


async def pay(client, boss, *tickets, reference=REFERENCE) -> None:
    body = {"ticket_ids": [ticket["id"] for ticket in tickets], "reference": reference}
    response = await client.post("/api/payments", json=body, headers=boss.headers)
    assert response.status_code == 201, response.text


async def paid_at(client, owner, ticket, zone: str) -> str:
    """When the API says `ticket` was paid, to the minute in `zone`, with the zone named."""
    read = await client.get(f"/api/tickets/{ticket['id']}", headers=owner.headers)
    moment = datetime.fromisoformat(read.json()["paid_at"]).astimezone(ZoneInfo(zone))
    return f"{moment:%Y-%m-%d %H:%M} {zone}"


async def test_paid_and_awaiting_tickets_and_what_is_owed_and_paid(client, factory):
    dana, boss = await factory.employee(), await factory.employer()
    hotel = await factory.ticket(dana, amount="1200.00", description="Hotel")
    taxi = await factory.ticket(dana, amount="34.50", description="Taxi")
    await factory.ticket(dana, amount="99.00", description="Lunch")  # pending: neither
    await approve(client, boss, hotel, taxi)
    await pay(client, boss, hotel)
    await log_in(client, dana)

    page = (await client.get("/tickets")).text

    paid, awaiting = ticket_item(page, hotel["id"]), ticket_item(page, taxi["id"])
    assert ">paid</span>" in paid
    when = await paid_at(client, dana, hotel, "UTC")
    assert f"Paid on {when} · ref {REFERENCE}" in words(paid)
    assert "awaiting payment" not in paid and "/edit" not in paid
    assert ">approved</span>" in awaiting and "awaiting payment" in awaiting
    assert "Paid on" not in awaiting
    assert text_of(page, "owed") == "Owed to you: $34.50 (1 ticket approved, not yet paid)"
    assert text_of(page, "paid-this-year") == "Paid this year: $1,200.00 (1 ticket)"


async def test_with_nothing_approved_the_summary_says_so(client, factory):
    dana = await factory.employee()
    await factory.ticket(dana)
    await log_in(client, dana)

    page = (await client.get("/tickets")).text

    assert text_of(page, "owed") == "Nothing owed to you right now."
    assert text_of(page, "paid-this-year") == "Nothing paid to you yet this year."
    assert "awaiting payment" not in page


async def test_a_reactivated_employee_still_sees_what_they_were_paid(client, factory):
    dana, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(dana, amount="80.00")
    await approve(client, boss, ticket)
    await pay(client, boss, ticket, reference="RUN-7")
    await client.post(f"/api/employees/{dana.id}/suspend", headers=boss.headers)
    await client.post(f"/api/employees/{dana.id}/reactivate", headers=boss.headers)
    await log_in(client, dana)

    page = (await client.get("/tickets")).text

    assert "· ref RUN-7" in words(ticket_item(page, ticket["id"]))
    assert text_of(page, "paid-this-year") == "Paid this year: $80.00 (1 ticket)"
    assert text_of(page, "owed") == "Nothing owed to you right now."


async def test_a_paid_ticket_cannot_be_edited(client, factory):
    dana, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(dana, amount="45.00", description="Train")
    await approve(client, boss, ticket)
    await pay(client, boss, ticket)
    await log_in(client, dana)
    url = f"/tickets/{ticket['id']}/edit"

    shown = await client.get(url)
    sent = await submit_form(
        client,
        url,
        {"spent_on": ticket["spent_on"], "amount": "450.00", "description": "Train", "links": ""},
    )

    assert "already paid; it can no longer be edited" in shown.text
    assert f'action="{url}"' not in shown.text
    assert sent.status_code == 409
    assert "already paid; it can no longer be edited" in sent.text
    after = await client.get(f"/api/tickets/{ticket['id']}", headers=dana.headers)
    assert after.json()["amount"] == "45.00"


@pytest.fixture
async def paris(settings, app):
    """A client of an app showing times in Europe/Paris (same database)."""
    application = create_app(settings.model_copy(update={"timezone": "Europe/Paris"}))
    transport = ASGITransport(app=application)
    async with AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
    await application.state.database.dispose()


async def test_the_payment_time_is_shown_in_the_apps_time_zone(paris, client, factory):
    dana, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(dana)
    await approve(client, boss, ticket)
    await pay(client, boss, ticket)
    await log_in(paris, dana)

    item = ticket_item((await paris.get("/tickets")).text, ticket["id"])

    assert f"Paid on {await paid_at(client, dana, ticket, 'Europe/Paris')}" in words(item)
    assert "UTC" not in words(item)
