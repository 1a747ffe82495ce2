"""Concurrent uploads on real connections: a ticket never holds more than ten receipts."""

import asyncio

from sqlalchemy import text

from tests.support.apps import app_with

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


async def test_twenty_uploads_at_once_attach_exactly_ten(client, factory, app, settings, figures):
    alice = await factory.employee()
    ticket = await factory.ticket(alice)

    # Room for all twenty at once: the cap on uploads in flight is not what is tested.
    room = {"receipt_uploads_per_user": 20, "receipt_uploads_per_process": 20}
    async with app_with(settings, **room) as (_, roomy):
        responses = await asyncio.gather(
            *(
                roomy.post(
                    f"/api/tickets/{ticket['id']}/receipts",
                    files={"file": (f"page-{n}.pdf", MINIMAL_PDF, "application/pdf")},
                    headers=alice.headers,
                )
                for n in range(20)
            )
        )

    codes = [response.status_code for response in responses]
    assert sorted(codes) == [201] * 10 + [409] * 10
    accepted = sorted(r.json()["id"] for r in responses if r.status_code == 201)
    listed = (await client.get(f"/api/tickets/{ticket['id']}", headers=alice.headers)).json()
    assert sorted(receipt["id"] for receipt in listed["receipts"]) == accepted
    async with app.state.database.engine.connect() as connection:
        stored = await connection.scalar(
            text("SELECT count(*) FROM receipts WHERE ticket_id = :id"), {"id": ticket["id"]}
        )
    assert stored == 10
    figures.add("races: 20 uploads to one ticket", uploads=20, attached=10, refused_409=10)
