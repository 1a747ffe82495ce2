"""Receipts through the API: an employee attaches real files to a pending ticket, the
owner and employers download them as stored (images without their metadata), and
everything else is refused with a status that says why."""

import hashlib
import io

import pytest
from PIL import ExifTags, Image

MIB = 1024 * 1024
RECEIPT_MAX_BYTES = 10 * MIB  # the default, which the `app` fixture runs with
GPS_IFD = 0x8825
MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def image_bytes(image_format, **options):
    image = Image.new("RGB", (40, 20), "white")
    image.paste("red", (0, 0, 20, 10))
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def jpeg_with_gps():
    """A phone photo: where it was taken rides along in its EXIF."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Contoso Phone"
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    content = image_bytes("JPEG", exif=exif)
    assert Image.open(io.BytesIO(content)).getexif().get_ifd(GPS_IFD)[1] == "N"
    return content


def pdf_of_size(size):
    """A valid PDF of exactly `size` bytes, padded inside a comment line."""
    header, rest = MINIMAL_PDF.split(b"\n", 1)
    padding = size - len(MINIMAL_PDF) - 2  # besides "%" and "\n"
    content = header + b"\n%" + b"x" * padding + b"\n" + rest
    assert len(content) == size
    return content


async def upload(client, owner, ticket, content, filename="receipt.pdf", content_type=None):
    return await client.post(
        f"/api/tickets/{ticket['id']}/receipts",
        files={"file": (filename, content, content_type or "application/octet-stream")},
        headers=owner.headers,
    )


async def uploaded(client, owner, ticket, content=MINIMAL_PDF, filename="receipt.pdf"):
    response = await upload(client, owner, ticket, content, filename)
    assert response.status_code == 201, response.text
    return response.json()


def receipt_url(ticket, receipt):
    return f"/api/tickets/{ticket['id']}/receipts/{receipt['id']}"


async def receipts_listed(client, account, ticket):
    response = await client.get(f"/api/tickets/{ticket['id']}", headers=account.headers)
    return response.json()["receipts"]


# The story


async def test_an_employee_attaches_downloads_and_removes_a_receipt(client, factory):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)

    added = await upload(client, alice, ticket, MINIMAL_PDF, "Hotel invoice.pdf", "text/plain")

    assert added.status_code == 201
    receipt = added.json()
    assert set(receipt) == {"id", "filename", "content_type", "size", "sha256", "uploaded_at"}
    assert (receipt["filename"], receipt["content_type"]) == (
        "Hotel invoice.pdf",
        "application/pdf",
    )
    assert receipt["size"] == len(MINIMAL_PDF)
    assert receipt["sha256"] == hashlib.sha256(MINIMAL_PDF).hexdigest()
    listed = {key: receipt[key] for key in ("id", "filename", "content_type", "size")}
    assert await receipts_listed(client, alice, ticket) == [listed]
    page = (await client.get("/api/tickets", headers=boss.headers)).json()
    assert page["items"][0]["receipts"] == [listed]
    for account in (alice, boss):
        downloaded = await client.get(receipt_url(ticket, receipt), headers=account.headers)
        assert downloaded.status_code == 200
        assert downloaded.content == MINIMAL_PDF  # a PDF is kept byte for byte

    removed = await client.delete(receipt_url(ticket, receipt), headers=alice.headers)

    assert removed.status_code == 204
    assert await receipts_listed(client, alice, ticket) == []
    gone = await client.get(receipt_url(ticket, receipt), headers=alice.headers)
    assert gone.status_code == 404
    again = await client.delete(receipt_url(ticket, receipt), headers=alice.headers)
    assert again.status_code == 404
    history = await client.get(f"/api/tickets/{ticket['id']}/history", headers=alice.headers)
    assert [(e["kind"], e["note"]) for e in history.json()[1:]] == [
        ("ticket_receipt_added", "Hotel invoice.pdf"),
        ("ticket_receipt_removed", "Hotel invoice.pdf"),
    ]


async def test_a_photo_loses_its_gps_location_and_its_hash_is_of_what_is_served(client, factory):
    alice = await factory.employee()
    ticket = await factory.ticket(alice)
    photo = jpeg_with_gps()

    receipt = await uploaded(client, alice, ticket, photo, "IMG_0001.jpg")

    downloaded = await client.get(receipt_url(ticket, receipt), headers=alice.headers)
    served = downloaded.content
    image = Image.open(io.BytesIO(served))
    assert image.format == "JPEG"
    assert image.size == (40, 20)
    assert image.getexif().get_ifd(GPS_IFD) == {}
    assert dict(image.getexif()) == {}
    assert b"Exif" not in served
    assert b"Contoso Phone" not in served
    assert receipt["sha256"] == hashlib.sha256(served).hexdigest()
    assert receipt["size"] == len(served)
    assert receipt["content_type"] == "image/jpeg"


@pytest.mark.parametrize(
    ("image_format", "filename", "content_type", "disposition"),
    [
        ("JPEG", "photo.jpg", "image/jpeg", 'inline; filename="photo.jpg"'),
        ("PNG", "scan.png", "image/png", 'inline; filename="scan.png"'),
        ("WEBP", "shot.webp", "image/webp", 'inline; filename="shot.webp"'),
        (None, "invoice.pdf", "application/pdf", 'attachment; filename="invoice.pdf"'),
    ],
)
async def test_a_download_is_served_so_that_it_can_never_run_in_our_origin(
    client, factory, image_format, filename, content_type, disposition
):
    alice = await factory.employee()
    ticket = await factory.ticket(alice)
    content = image_bytes(image_format) if image_format else MINIMAL_PDF
    receipt = await uploaded(client, alice, ticket, content, filename)

    response = await client.get(receipt_url(ticket, receipt), headers=alice.headers)

    assert response.status_code == 200
    headers = response.headers
    assert headers["content-type"] == content_type
    assert headers["content-disposition"].startswith(disposition + ";")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "private, no-store"
    assert "sandbox" in headers["content-security-policy"].split("; ")
    assert "default-src 'none'" in headers["content-security-policy"]
    assert int(headers["content-length"]) == len(response.content) == receipt["size"]
    assert hashlib.sha256(response.content).hexdigest() == receipt["sha256"]
    if image_format:
        assert Image.open(io.BytesIO(response.content)).format == image_format


async def test_the_type_comes_from_the_content_never_the_name_or_the_header(client, factory):
    alice = await factory.employee()
    ticket = await factory.ticket(alice)

    response = await upload(client, alice, ticket, image_bytes("PNG"), "scan.jpg", "image/jpeg")

    assert response.status_code == 201
    receipt = response.json()
    assert (receipt["content_type"], receipt["filename"]) == ("image/png", "scan.jpg.png")
    downloaded = await client.get(receipt_url(ticket, receipt), headers=alice.headers)
    assert downloaded.headers["content-type"] == "image/png"


# Files that are refused


@pytest.mark.parametrize(
    ("content", "filename", "content_type"),
    [
        (
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 512,
            "receipt.pdf",
            "application/pdf",
        ),
        (
            b"<html><script>alert(document.cookie)</script></html>" + image_bytes("JPEG"),
            "x.jpg",
            "image/jpeg",
        ),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "receipt.gif", "image/gif"),
        (b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\n", "cut.pdf", "application/pdf"),
        (b"", "empty.pdf", "application/pdf"),
    ],
    ids=["renamed executable", "html and jpeg polyglot", "gif", "truncated pdf", "empty"],
)
async def test_other_types_are_415_and_nothing_is_attached(
    client, factory, content, filename, content_type
):
    alice = await factory.employee()
    ticket = await factory.ticket(alice)

    response = await upload(client, alice, ticket, content, filename, content_type)

    assert response.status_code == 415
    assert filename in response.json()["detail"]
    assert await receipts_listed(client, alice, ticket) == []


async def test_a_file_of_exactly_the_limit_is_accepted_and_one_byte_more_is_413(client, factory):
    alice = await factory.employee()
    ticket = await factory.ticket(alice)
    largest = pdf_of_size(RECEIPT_MAX_BYTES)

    accepted = await upload(client, alice, ticket, largest, "largest.pdf")
    refused = await upload(client, alice, ticket, pdf_of_size(RECEIPT_MAX_BYTES + 1), "big.pdf")

    assert accepted.status_code == 201
    assert accepted.json()["size"] == RECEIPT_MAX_BYTES
    downloaded = await client.get(receipt_url(ticket, accepted.json()), headers=alice.headers)
    assert downloaded.content == largest
    assert refused.status_code == 413
    assert refused.json()["detail"] == (
        "“big.pdf” is 10.1 MB; receipts can be at most 10 MB each. "
        "Take a smaller photo or scan, or compress the PDF."
    )
    assert len(await receipts_listed(client, alice, ticket)) == 1


async def test_bodies_far_over_the_limit_are_413_however_they_are_sent(client, factory):
    alice = await factory.employee()
    ticket = await factory.ticket(alice)
    boundary = "receipt-boundary"

    async def streamed_upload():
        # No Content-Length: chunked, so only counting the bytes as they come catches it.
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file";'
            ' filename="huge.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n'
        ).encode()
        for _ in range(3 * RECEIPT_MAX_BYTES // MIB):
            yield b"%" * MIB

    streamed = await client.post(
        f"/api/tickets/{ticket['id']}/receipts",
        content=streamed_upload(),
        headers=alice.headers | {"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    declared = await upload(
        client, alice, ticket, pdf_of_size(2 * RECEIPT_MAX_BYTES), "declared.pdf"
    )
    # Elsewhere the request-body limit stays 1 MiB.
    json_body = await client.post(
        "/api/tickets",
        json={"spent_on": "2026-01-02", "amount": "3.00", "description": "x" * (2 * MIB)},
        headers=alice.headers,
    )

    assert "content-length" not in streamed.request.headers
    for response in (streamed, declared, json_body):
        assert response.status_code == 413
        assert "too large" in response.json()["detail"]
    assert await receipts_listed(client, alice, ticket) == []
    assert (await client.get("/api/tickets", headers=alice.headers)).json()["total"] == 1


async def test_a_ticket_takes_at_most_ten_receipts(client, factory):
    alice = await factory.employee()
    ticket = await factory.ticket(alice)
    for n in range(10):
        await uploaded(client, alice, ticket, image_bytes("PNG"), f"page-{n}.png")

    eleventh = await upload(client, alice, ticket, MINIMAL_PDF, "one-more.pdf")

    assert eleventh.status_code == 409
    assert "can have at most 10 receipts and has 10" in eleventh.json()["detail"]
    listed = await receipts_listed(client, alice, ticket)
    assert [receipt["filename"] for receipt in listed] == [f"page-{n}.png" for n in range(10)]
    # Room again after a delete.
    await client.delete(receipt_url(ticket, listed[0]), headers=alice.headers)
    assert (await upload(client, alice, ticket, MINIMAL_PDF, "one-more.pdf")).status_code == 201


# Who may do what


async def test_only_the_owner_and_employers_see_a_receipt(client, factory):
    alice, bob, boss = await factory.employee(), await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    receipt = await uploaded(client, alice, ticket)
    url = receipt_url(ticket, receipt)

    assert (await client.get(url, headers=alice.headers)).status_code == 200
    assert (await client.get(url, headers=boss.headers)).status_code == 200
    peek = await client.get(url, headers=bob.headers)
    assert peek.status_code == 404
    assert peek.json()["detail"] == f"Receipt {receipt['id']} of ticket {ticket['id']} not found."
    assert (await client.get(url)).status_code == 401
    # Another ticket's path does not reach it, even the owner's own.
    other = await factory.ticket(alice)
    assert (await client.get(receipt_url(other, receipt), headers=alice.headers)).status_code == 404


async def test_a_suspended_employees_receipts_are_hidden_until_reactivation(client, factory):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    receipt = await uploaded(client, alice, ticket, jpeg_with_gps(), "taxi.jpg")
    url = receipt_url(ticket, receipt)

    await client.post(f"/api/employees/{alice.id}/suspend", headers=boss.headers)
    hidden = await client.get(url, headers=boss.headers)
    await client.post(f"/api/employees/{alice.id}/reactivate", headers=boss.headers)
    shown = await client.get(url, headers=boss.headers)

    assert hidden.status_code == 404
    assert shown.status_code == 200
    assert hashlib.sha256(shown.content).hexdigest() == receipt["sha256"]


async def test_only_the_owner_adds_or_removes_receipts(client, factory):
    alice, bob, boss = await factory.employee(), await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    receipt = await uploaded(client, alice, ticket)
    url = receipt_url(ticket, receipt)

    assert (await upload(client, bob, ticket, MINIMAL_PDF)).status_code == 404
    assert (await upload(client, boss, ticket, MINIMAL_PDF)).status_code == 403
    assert (await client.delete(url, headers=bob.headers)).status_code == 404
    assert (await client.delete(url, headers=boss.headers)).status_code == 403
    assert (await upload(client, alice, {"id": 999999}, MINIMAL_PDF)).status_code == 404

    assert len(await receipts_listed(client, alice, ticket)) == 1
    assert (await client.get(url, headers=alice.headers)).content == MINIMAL_PDF


async def test_removing_a_receipt_through_another_ticket_changes_nothing(client, factory):
    alice = await factory.employee()
    ticket, other = await factory.ticket(alice), await factory.ticket(alice)
    receipt = await uploaded(client, alice, ticket)

    response = await client.delete(receipt_url(other, receipt), headers=alice.headers)

    assert response.status_code == 404
    downloaded = await client.get(receipt_url(ticket, receipt), headers=alice.headers)
    assert downloaded.content == MINIMAL_PDF


async def test_a_decided_tickets_receipts_can_no_longer_change(client, factory):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    receipt = await uploaded(client, alice, ticket)
    await client.post(f"/api/tickets/{ticket['id']}/approve", headers=boss.headers)

    added = await upload(client, alice, ticket, image_bytes("PNG"), "late.png")
    removed = await client.delete(receipt_url(ticket, receipt), headers=alice.headers)

    assert (added.status_code, removed.status_code) == (409, 409)
    assert "already approved" in added.json()["detail"]
    assert "already approved" in removed.json()["detail"]
    assert [r["id"] for r in await receipts_listed(client, alice, ticket)] == [receipt["id"]]
    assert (await client.get(receipt_url(ticket, receipt), headers=boss.headers)).status_code == 200
