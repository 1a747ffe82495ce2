"""Receipts on a ticket's console page: thumbnails of images, links to PDFs, served by
the console's own route to a logged-in employer only, and only what they may see."""

import io
import re
from urllib.parse import urlsplit

from PIL import Image

from tests.support.factories import PASSWORD
from tests.support.forms import submit_form

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def png(size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, "PNG")
    return buffer.getvalue()


async def attach(client, owner, ticket, filename, content) -> dict:
    response = await client.post(
        f"/api/tickets/{ticket['id']}/receipts",
        files={"file": (filename, content, "application/octet-stream")},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def receipt_url(ticket, receipt) -> str:
    return f"/admin/tickets/{ticket['id']}/receipts/{receipt['id']}"


async def test_a_tickets_page_shows_image_thumbnails_and_links_to_pdfs(browser, factory, client):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    photo = await attach(client, alice, ticket, "taxi.png", png())
    scan = await attach(client, alice, ticket, "invoice.pdf", MINIMAL_PDF)
    await browser.login_as(boss)

    page = (await browser.client.get(f"/admin/tickets/details/{ticket['id']}")).text

    image = re.search(rf'<img [^>]*src="{receipt_url(ticket, photo)}"[^>]*>', page)
    assert image, page
    assert 'loading="lazy"' in image[0] and 'width="160"' in image[0] and 'height="160"' in image[0]
    assert 'alt="Receipt taxi.png"' in image[0]
    assert re.search(
        rf'<a class="receipt receipt-file btn" href="{receipt_url(ticket, scan)}"', page
    )
    assert f'<img class="receipt-thumb" src="{receipt_url(ticket, scan)}"' not in page
    # Nothing in the console's own headers keeps the thumbnail from loading.
    headers = (await browser.client.get(f"/admin/tickets/details/{ticket['id']}")).headers
    assert headers["content-security-policy"] == "frame-ancestors 'none'"


async def test_the_receipt_route_serves_the_file_with_safe_headers(browser, factory, client):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    photo = await attach(client, alice, ticket, "taxi.png", png((64, 48)))
    scan = await attach(client, alice, ticket, "invoice.pdf", MINIMAL_PDF)
    await browser.login_as(boss)

    image = await browser.client.get(receipt_url(ticket, photo))
    pdf = await browser.client.get(receipt_url(ticket, scan))

    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (64, 48)
    assert image.headers["x-content-type-options"] == "nosniff"
    assert image.headers["content-security-policy"] == "default-src 'none'; img-src 'self'; sandbox"
    assert image.headers["cache-control"] == "private, no-store"
    assert image.headers["content-disposition"].startswith('inline; filename="taxi.png"')
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("attachment;")
    assert pdf.content == MINIMAL_PDF


async def test_a_hidden_absent_or_mismatched_receipt_is_a_404(browser, factory, client):
    alice, bob, boss = await factory.employee(), await factory.employee(), await factory.employer()
    alices, bobs = await factory.ticket(alice), await factory.ticket(bob)
    alices_photo = await attach(client, alice, alices, "a.png", png())
    bobs_photo = await attach(client, bob, bobs, "b.png", png())
    await client.post(f"/api/employees/{bob.id}/suspend", headers=boss.headers)
    await browser.login_as(boss)

    suspended = await browser.client.get(receipt_url(bobs, bobs_photo))
    wrong_ticket = await browser.client.get(
        f"/admin/tickets/{bobs['id']}/receipts/{alices_photo['id']}"
    )
    other_ticket = await browser.client.get(
        f"/admin/tickets/{alices['id'] + 100}/receipts/{alices_photo['id']}"
    )
    absent = await browser.client.get(f"/admin/tickets/{alices['id']}/receipts/999999")
    nonsense = await browser.client.get(f"/admin/tickets/{alices['id']}/receipts/x")
    visible = await browser.client.get(receipt_url(alices, alices_photo))

    assert suspended.status_code == 404
    assert wrong_ticket.status_code == other_ticket.status_code == 404
    assert absent.status_code == nonsense.status_code == 404
    assert visible.status_code == 200  # the same employer, the same route, a visible one


async def test_only_a_logged_in_employer_gets_a_receipt_from_the_console(factory, client):
    alice = await factory.employee()
    ticket = await factory.ticket(alice)
    photo = await attach(client, alice, ticket, "taxi.png", png())
    url = receipt_url(ticket, photo)

    anonymous = await client.get(url)
    await submit_form(client, "/", {"email": alice.email, "password": PASSWORD})
    as_owner = await client.get(url)
    bearer = await client.get(url, headers=alice.headers)

    # The console's login page, never the file: the owner uses the pages or the API.
    for response in (anonymous, as_owner, bearer):
        assert response.status_code == 302
        assert urlsplit(response.headers["location"]).path == "/admin/login"
