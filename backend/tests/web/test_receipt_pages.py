"""Categories and receipts on the employee pages: filing with files in one form, seeing
and downloading them, refusals shown on the form, double submits, deleting and adding
receipts on the edit page, and the flags in words."""

import asyncio
import io
import re
from datetime import date, timedelta
from urllib.parse import quote

import pytest
from PIL import ExifTags, Image

from contoso.receipts.decoding import ReceiptCleaner
from tests.support.factories import PASSWORD
from tests.support.forms import csrf_from, submit_form

TODAY = date.today().isoformat()
GPS_IFD = 0x8825
MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
RECEIPT_LINK = re.compile(r'href="/tickets/(\d+)/receipts/(\d+)"><bdi>([^<]+)</bdi></a>')
IDEMPOTENCY_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def image(image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(buffer, image_format, **options)
    return buffer.getvalue()


def png(name: str = "lunch.png") -> tuple[str, tuple[str, bytes, str]]:
    return ("receipts", (name, image("PNG"), "image/png"))


def pdf(name: str = "invoice.pdf", content: bytes = MINIMAL_PDF):
    return ("receipts", (name, content, "application/pdf"))


async def log_in(client, account) -> None:
    response = await submit_form(client, "/", {"email": account.email, "password": PASSWORD})
    assert response.status_code == 303


async def category(client, boss, **fields) -> dict:
    response = await client.post("/api/categories", json=fields, headers=boss.headers)
    assert response.status_code == 201, response.text
    return response.json()


def ticket_form(**fields: str) -> dict[str, str]:
    # As a browser sends it: the currency <select> starts on the company's.
    return {
        "spent_on": TODAY,
        "amount": "40.00",
        "currency": "USD",
        "description": "Taxi",
        "links": "",
    } | fields


async def file_from_page(client, files=(), page=None, **fields: str):
    """Fill in the filing form on My tickets, as a browser sends it (multipart)."""
    page = page or await client.get("/tickets")
    data = ticket_form(**fields) | {
        "csrf_token": csrf_from(page),
        "idempotency_key": IDEMPOTENCY_KEY.search(page.text).group(1),
    }
    # A browser sends the file field even when no file is chosen: one empty part.
    files = list(files) or [("receipts", ("", b"", "application/octet-stream"))]
    return await client.post("/tickets", data=data, files=files)


def receipt_links(html: str) -> dict[str, str]:
    """{filename: url} of the receipts a page links to."""
    return {
        name: f"/tickets/{ticket}/receipts/{receipt}"
        for ticket, receipt, name in RECEIPT_LINK.findall(html)
    }


async def my_tickets(client, account) -> list[dict]:
    return (await client.get("/api/tickets", headers=account.headers)).json()["items"]


async def test_a_ticket_is_filed_with_its_category_and_receipts_and_they_download(client, factory):
    boss, dana = await factory.employer(), await factory.employee()
    travel = await category(
        client, boss, name="Travel", max_amount="1500.00", receipt_required_above="25.00"
    )
    await log_in(client, dana)

    page = await client.get("/tickets")
    response = await file_from_page(
        client, [png("taxi.png"), pdf()], page=page, category_id=str(travel["id"])
    )
    listed = await client.get("/tickets")
    links = receipt_links(listed.text)
    shown = await client.get(links["taxi.png"])
    downloaded = await client.get(links["invoice.pdf"])

    assert f'<option value="{travel["id"]}">Travel (up to $1,500.00; receipt above $25.00)' in (
        page.text
    )
    assert re.search(r'<option value="\d+" selected>General</option>', page.text)
    assert 'enctype="multipart/form-data"' in page.text
    file_input = re.search(r'<input id="field-receipts"[^>]*>', page.text, re.S).group(0)
    assert 'type="file"' in file_input and "multiple" in file_input
    assert 'accept="image/jpeg,image/png,image/webp,application/pdf"' in file_input
    assert "capture" not in file_input  # phones offer the camera or the files
    assert response.status_code == 303 and response.headers["location"] == "/tickets"
    assert "filed with 2 receipts: $40.00 for Taxi" in listed.text
    assert "Travel" in listed.text.split('data-ticket-id="')[1]
    assert "Receipt required" not in listed.text
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(shown.content)).size == (40, 20)
    assert downloaded.content == MINIMAL_PDF
    assert downloaded.headers["content-disposition"].startswith("attachment")
    [ticket] = await my_tickets(client, dana)
    assert ticket["category"]["name"] == "Travel"
    assert sorted(r["filename"] for r in ticket["receipts"]) == ["invoice.pdf", "taxi.png"]


async def test_a_renamed_program_is_refused_on_the_form_and_nothing_is_filed(client, factory):
    boss, dana = await factory.employer(), await factory.employee()
    travel = await category(client, boss, name="Travel")
    await log_in(client, dana)
    program = ("receipts", ("receipt.png", b"MZ\x90\x00" + b"\x00" * 200, "image/png"))

    response = await file_from_page(
        client,
        [png(), program],
        amount="123.45",
        description="Dinner with the client",
        category_id=str(travel["id"]),
    )

    assert response.status_code == 415
    error = re.search(r'id="error-receipts">([^<]+)<', response.text).group(1)
    assert "“receipt.png” is not a JPEG, PNG, WebP or PDF file" in error
    assert "choose your receipt files again" in error
    assert 'value="123.45"' in response.text
    assert "Dinner with the client</textarea>" in response.text
    assert f'<option value="{travel["id"]}" selected>Travel</option>' in response.text
    assert await my_tickets(client, dana) == []  # not even the good PNG's ticket


async def test_eleven_receipts_are_refused_beside_the_field_and_nothing_is_filed(client, factory):
    boss, dana = await factory.employer(), await factory.employee()
    travel = await category(client, boss, name="Travel")
    await log_in(client, dana)
    spent_on = (date.today() - timedelta(days=3)).isoformat()
    links = "https://hotel.example.com/b/7\nhttps://hotel.example.com/b/8"

    response = await file_from_page(
        client,
        [png(f"page-{n}.png") for n in range(11)],
        spent_on=spent_on,
        amount="123.45",
        description="Conference hotel",
        links=links,
        category_id=str(travel["id"]),
    )

    assert response.status_code == 400
    error = re.search(r'id="error-receipts">([^<]+)<', response.text).group(1)
    assert "A ticket can have at most 10 receipts; you chose 11." in error
    assert "choose at most 10 files again" in error
    assert f'value="{spent_on}"' in response.text
    assert 'value="123.45"' in response.text
    assert "Conference hotel</textarea>" in response.text
    assert f"{links}</textarea>" in response.text
    assert f'<option value="{travel["id"]}" selected>Travel</option>' in response.text
    assert await my_tickets(client, dana) == []


async def test_a_form_with_more_than_twice_the_receipts_limit_is_not_read(client, factory):
    dana = await factory.employee()
    await log_in(client, dana)

    response = await file_from_page(client, [png(f"page-{n}.png") for n in range(21)])

    assert response.status_code == 400
    assert "This form could not be read" in response.text
    assert await my_tickets(client, dana) == []


async def test_ten_receipts_are_filed_with_their_ticket(client, factory):
    dana = await factory.employee()
    await log_in(client, dana)

    response = await file_from_page(client, [png(f"page-{n}.png") for n in range(10)])
    listed = await client.get("/tickets")

    assert response.status_code == 303
    assert "filed with 10 receipts" in listed.text
    [ticket] = await my_tickets(client, dana)
    assert len(ticket["receipts"]) == 10


async def test_the_edit_page_refuses_more_receipts_than_the_ticket_has_room_for(client, factory):
    dana = await factory.employee()
    await log_in(client, dana)
    await file_from_page(client, [png(f"first-{n}.png") for n in range(3)])
    [ticket] = await my_tickets(client, dana)
    edit_url = f"/tickets/{ticket['id']}/edit"
    edit = await client.get(edit_url)

    eight = await client.post(
        edit_url,
        data=ticket_form(amount="99.00", description="Hotel, three nights")
        | {"csrf_token": csrf_from(edit)},
        files=[png(f"more-{n}.png") for n in range(8)],
    )
    seven = await client.post(
        edit_url,
        data=ticket_form(amount="99.00") | {"csrf_token": csrf_from(edit)},
        files=[png(f"more-{n}.png") for n in range(7)],
    )
    full = await client.get(edit_url)
    one_more = await client.post(
        edit_url,
        data=ticket_form(amount="98.00") | {"csrf_token": csrf_from(full)},
        files=[png("last.png")],
    )

    assert eight.status_code == 400
    error = re.search(r'id="error-receipts">([^<]+)<', eight.text).group(1)
    assert "at most 10 receipts; this one has 3 and you chose 8" in error
    assert "choose at most 7 files again" in error
    assert 'value="99.00"' in eight.text and "Hotel, three nights</textarea>" in eight.text
    assert seven.status_code == 303
    assert "Attached receipts (10 of 10)" in full.text
    assert one_more.status_code == 400
    assert "delete one before adding another" in one_more.text
    [saved] = await my_tickets(client, dana)
    assert saved["amount"] == "99.00" and len(saved["receipts"]) == 10


@pytest.fixture
def receipts_of_2_kb(app):
    # Set and put back by hand: monkeypatch's undo deletes a Starlette State attribute.
    settings, cleaner = app.state.settings, app.state.receipt_cleaner
    app.state.settings = settings.model_copy(update={"receipt_max_bytes": 2048})
    app.state.receipt_cleaner = ReceiptCleaner.from_settings(app.state.settings)
    yield
    app.state.receipt_cleaner.close()
    app.state.settings, app.state.receipt_cleaner = settings, cleaner


@pytest.mark.usefixtures("receipts_of_2_kb")
async def test_an_oversize_receipt_is_refused_with_the_limit_and_nothing_is_filed(client, factory):
    dana = await factory.employee()
    await log_in(client, dana)
    page = await client.get("/tickets")
    large = MINIMAL_PDF.replace(b"trailer", b"%" + b"x" * 4096 + b"\ntrailer")

    response = await file_from_page(client, [pdf("scan.pdf", large)], page=page)

    assert "up to 2 KB each" in page.text
    assert response.status_code == 413
    assert "“scan.pdf” is 4.2 KB; receipts can be at most 2 KB each" in response.text
    assert await my_tickets(client, dana) == []


async def test_a_double_submitted_form_files_one_ticket_with_its_receipts_once(client, factory):
    dana = await factory.employee()
    await log_in(client, dana)
    page = await client.get("/tickets")

    first, second = await asyncio.gather(
        file_from_page(client, [png()], page=page, description="Hotel"),
        file_from_page(client, [png()], page=page, description="Hotel"),
    )
    listed = await client.get("/tickets")

    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"] == "/tickets"
    [ticket] = await my_tickets(client, dana)
    assert len(ticket["receipts"]) == 1
    assert f"Ticket #{ticket['id']} filed with 1 receipt" in listed.text
    # The next render carries a new key: the same page files again only when sent again.
    assert IDEMPOTENCY_KEY.search(listed.text).group(1) != IDEMPOTENCY_KEY.search(page.text)[1]


async def test_a_receipt_is_deleted_from_the_edit_page(client, factory):
    dana = await factory.employee()
    await log_in(client, dana)
    await file_from_page(client, [png("keep.png"), pdf("wrong.pdf")])
    [ticket] = await my_tickets(client, dana)
    edit = await client.get(f"/tickets/{ticket['id']}/edit")
    wrong = receipt_links(edit.text)["wrong.pdf"]
    delete = re.search(rf'action="({wrong}/delete)"', edit.text).group(1)

    forged = await client.post(delete)
    response = await client.post(delete, data={"csrf_token": csrf_from(edit)})
    after = await client.get(response.headers["location"])

    assert "Attached receipts (2 of 10)" in edit.text
    assert forged.status_code == 403
    assert response.status_code == 303
    assert response.headers["location"] == f"/tickets/{ticket['id']}/edit"
    assert "Receipt “wrong.pdf” removed" in after.text
    assert list(receipt_links(after.text)) == ["keep.png"]
    assert (await client.get(wrong)).status_code == 404


async def test_receipts_added_with_an_edit_clear_the_receipt_flag(client, factory):
    boss, dana = await factory.employer(), await factory.employee()
    meals = await category(client, boss, name="Meals", receipt_required_above="25.00")
    await log_in(client, dana)
    await file_from_page(client, category_id=str(meals["id"]), amount="30.00")
    [ticket] = await my_tickets(client, dana)
    before = await client.get("/tickets")
    edit = await client.get(f"/tickets/{ticket['id']}/edit")

    response = await client.post(
        f"/tickets/{ticket['id']}/edit",
        data=ticket_form(amount="31.00", category_id=str(meals["id"]))
        | {"csrf_token": csrf_from(edit)},
        files=[("receipts", ("bill.jpg", image("JPEG"), "image/jpeg"))],
    )
    after = await client.get("/tickets")

    assert "Receipt required" in before.text
    assert "Add a receipt or explain in the description" in before.text
    assert response.status_code == 303
    assert "saved: $31.00. 1 receipt added." in after.text
    assert "31.00" in after.text and "bill.jpg" in after.text
    assert "Receipt required" not in after.text


async def test_a_refused_receipt_on_the_edit_page_saves_nothing(client, factory):
    dana = await factory.employee()
    await log_in(client, dana)
    await file_from_page(client)
    [ticket] = await my_tickets(client, dana)
    edit = await client.get(f"/tickets/{ticket['id']}/edit")

    response = await client.post(
        f"/tickets/{ticket['id']}/edit",
        data=ticket_form(amount="99.00") | {"csrf_token": csrf_from(edit)},
        files=[("receipts", ("empty.pdf", b"", "application/pdf")), png()],
    )

    assert response.status_code == 415
    assert 'id="error-receipts"' in response.text and "“empty.pdf” is empty" in response.text
    assert 'value="99.00"' in response.text  # kept on the form, not saved
    [unchanged] = await my_tickets(client, dana)
    assert unchanged["amount"] == "40.00" and unchanged["receipts"] == []


async def test_the_flags_are_shown_in_words(client, factory):
    boss, dana = await factory.employer(), await factory.employee()
    travel = await category(client, boss, name="Travel", max_amount="100.00")
    await log_in(client, dana)
    await file_from_page(client, category_id=str(travel["id"]), amount="150.00")
    await file_from_page(client, category_id=str(travel["id"]), amount="150.00")
    first, second = sorted(t["id"] for t in await my_tickets(client, dana))

    page = await client.get("/tickets")

    assert page.text.count("Over the Travel limit") == 2
    assert f"Possible duplicate of #{first}" in page.text
    assert f"Possible duplicate of #{second}" in page.text


async def test_an_inactive_or_unknown_category_posted_by_hand_is_a_field_error(client, factory):
    boss, dana = await factory.employer(), await factory.employee()
    old = await category(client, boss, name="Old")
    await client.patch(f"/api/categories/{old['id']}", json={"active": False}, headers=boss.headers)
    await log_in(client, dana)
    page = await client.get("/tickets")

    retired = await file_from_page(client, [png()], page=page, category_id=str(old["id"]))
    unknown = await file_from_page(client, page=page, category_id="999999")

    assert ">Old<" not in page.text  # not offered
    for response in (retired, unknown):
        assert response.status_code == 422
        assert 'id="error-category_id"' in response.text
        assert "choose one of the active categories." in response.text
    # The chosen file is gone from the form shown again, and the person is told so.
    assert "choose your receipt files again" in retired.text.split('id="error-receipts"')[1]
    assert 'id="error-receipts"' not in unknown.text
    assert await my_tickets(client, dana) == []
    # The key of a refused form was not used up: the same page files afterwards.
    assert (await file_from_page(client, page=page)).status_code == 303


async def test_a_ticket_keeps_its_retired_category_when_edited(client, factory):
    boss, dana = await factory.employer(), await factory.employee()
    old = await category(client, boss, name="Old")
    await log_in(client, dana)
    await file_from_page(client, category_id=str(old["id"]))
    await client.patch(f"/api/categories/{old['id']}", json={"active": False}, headers=boss.headers)
    [ticket] = await my_tickets(client, dana)

    edit = await client.get(f"/tickets/{ticket['id']}/edit")
    saved = await client.post(
        f"/tickets/{ticket['id']}/edit",
        data=ticket_form(description="Taxi, night", category_id=str(old["id"]))
        | {"csrf_token": csrf_from(edit)},
    )

    assert f'<option value="{old["id"]}" selected>Old (no longer offered)</option>' in edit.text
    assert saved.status_code == 303
    [edited] = await my_tickets(client, dana)
    assert (edited["description"], edited["category"]["name"]) == ("Taxi, night", "Old")


async def test_another_employees_receipt_is_not_found(client, factory):
    alice, bob = await factory.employee(), await factory.employee()
    await log_in(client, alice)
    await file_from_page(client, [png("mine.png")])
    mine = await client.get("/tickets")
    url = receipt_links(mine.text)["mine.png"]
    await client.post("/logout", data={"csrf_token": csrf_from(mine)})

    anonymous = await client.get(url)
    await log_in(client, bob)
    others = await client.get(url)

    assert anonymous.status_code == 303  # to log in, then back to the file
    assert anonymous.headers["location"] == f"/?next={quote(url, safe='')}"
    assert others.status_code == 404
    assert others.headers["content-type"].startswith("text/html")
    assert b"IHDR" not in others.content


async def test_a_photo_downloads_without_its_gps_location(client, factory):
    dana = await factory.employee()
    await log_in(client, dana)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    photo = image("JPEG", exif=exif)
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(GPS_IFD)  # it had one

    await file_from_page(client, [("receipts", ("IMG_0001.jpg", photo, "image/jpeg"))])
    url = receipt_links((await client.get("/tickets")).text)["IMG_0001.jpg"]
    downloaded = await client.get(url)

    assert downloaded.status_code == 200
    assert downloaded.headers["content-type"] == "image/jpeg"
    stored = Image.open(io.BytesIO(downloaded.content))
    assert stored.getexif().get_ifd(GPS_IFD) == {}
    assert b"Exif" not in downloaded.content and b"PhoneCo" not in downloaded.content
