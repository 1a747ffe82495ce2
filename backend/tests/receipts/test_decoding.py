"""One employee's uploads cannot stall everyone else: images are decoded in separate
processes under CPU-time and memory limits, no database connection waits on a decoder,
uploads in flight are capped per user and per process, and a pool at capacity says it
is busy rather than down."""

import asyncio
import logging
import time

import pytest

from contoso.errors import BUSY_MESSAGE
from contoso.receipts.decoding import ReceiptCleaner
from contoso.receipts.files import MAX_JPEG_SCANS
from tests.support.apps import app_with
from tests.support.images import scan_bomb, slow_png
from tests.web.test_receipt_pages import file_from_page, log_in

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


async def upload(client, owner, ticket, content, filename):
    return await client.post(
        f"/api/tickets/{ticket['id']}/receipts",
        files={"file": (filename, content, "application/octet-stream")},
        headers=owner.headers,
    )


async def in_flight(cleaner, user_id, count):
    """Wait until `count` of the user's uploads are being handled."""
    async with asyncio.timeout(10):
        # Polled: the count is the cleaner's own, and nothing signals it.
        while cleaner.in_flight(user_id) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def lists_until_done(task, client, viewer):
    """`viewer`'s ticket list, asked for again and again until `task` is done."""
    listed = []
    while not task.done():
        listed.append(await client.get("/api/tickets", headers=viewer.headers))
        await asyncio.sleep(0.05)
    return listed


async def receipt_count(client, owner, ticket):
    response = await client.get(f"/api/tickets/{ticket['id']}", headers=owner.headers)
    return len(response.json()["receipts"])


# Decoding work is bounded


async def test_a_scan_bomb_is_refused_in_under_two_seconds(client, factory, figures):
    alice = await factory.employee()
    ticket = await factory.ticket(alice)
    bomb = scan_bomb(side=4000, repeats=20_000)

    started = time.monotonic()
    response = await upload(client, alice, ticket, bomb, "receipt.jpg")
    took = time.monotonic() - started

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "file"]
    assert f"more than {MAX_JPEG_SCANS} scans" in error["msg"]
    assert took < 2
    assert await receipt_count(client, alice, ticket) == 0
    figures.add("hardening: scan bomb (374 KB, 20,000 scans)", refused_422=1, ms=int(took * 1000))


async def test_an_image_past_the_cpu_time_limit_is_refused_and_the_other_jobs_carry_on(
    settings, app, factory
):
    alice, bob = await factory.employee(), await factory.employee()
    slow, quick = await factory.ticket(alice), await factory.ticket(bob)
    async with app_with(settings) as (application, http):
        # No scan limit here: the CPU-time limit alone stands between the bomb and a
        # decoder busy for 7 to 19 s.
        cleaner = ReceiptCleaner(
            max_bytes=settings.receipt_max_bytes,
            decoders=2,
            cpu_seconds=1,
            memory_bytes=settings.receipt_decode_memory_mb * 1024 * 1024,
            per_user=4,
            per_process=16,
            max_jpeg_scans=100_000,
        )
        application.state.receipt_cleaner = cleaner
        await asyncio.to_thread(cleaner.start)
        bomb, photo = scan_bomb(side=4000, repeats=20_000), slow_png(side=2000)
        started = time.monotonic()
        bombed, photo = await asyncio.gather(
            upload(http, alice, slow, bomb, "scan.jpg"),
            upload(http, bob, quick, photo, "photo.png"),
        )
        took = time.monotonic() - started
        after = await upload(http, alice, slow, slow_png(side=1000), "again.png")
        application.state.receipt_cleaner.close()

    assert bombed.status_code == 422
    assert bombed.json()["detail"][0]["msg"] == (
        "“scan.jpg” takes too long to open. Export or photograph the receipt again at a "
        "lower resolution, or as a PDF, and upload the new file."
    )
    assert took < 5  # one or two seconds of a decoder's CPU, on a machine that is busy
    assert photo.status_code == 201, photo.text
    assert after.status_code == 201, after.text  # the killed decoder was replaced


async def test_an_image_past_the_memory_limit_is_refused(settings, app, factory):
    alice = await factory.employee()
    ticket = await factory.ticket(alice)
    # 49 megapixels are about 150 MB decoded, on top of the decoder's own 100 MB or so.
    async with app_with(settings, receipt_decode_memory_mb=256) as (_, http):
        refused = await upload(http, alice, ticket, slow_png(side=7000), "huge.png")
        small = await upload(http, alice, ticket, slow_png(side=200), "small.png")

    assert refused.status_code == 422
    assert refused.json()["detail"][0]["msg"].startswith(
        "“huge.png” needs more memory to open than a receipt may."
    )
    assert small.status_code == 201, small.text


# Uploads hold no connection while decoding, and are capped


async def test_an_upload_holds_no_database_connection_while_its_image_is_decoded(
    settings, app, factory, figures
):
    alice, bob = await factory.employee(), await factory.employee()
    ticket = await factory.ticket(alice)
    await factory.ticket(bob)
    # One request at a time may use the database, and another waits at most 0.5 s.
    async with app_with(settings, db_pool_size=1, db_timeout=0.5) as (application, http):
        cleaner = application.state.receipt_cleaner
        await upload(http, alice, ticket, slow_png(side=100), "warm.png")  # decoders up
        uploading = asyncio.create_task(upload(http, alice, ticket, slow_png(), "big.png"))
        await in_flight(cleaner, alice.id, 1)
        listed = await lists_until_done(uploading, http, bob)
        uploaded = await uploading

    assert uploaded.status_code == 201, uploaded.text
    assert len(listed) >= 5  # the decoding took a while: 1.5 s or so
    assert {response.status_code for response in listed} == {200}
    figures.add("hardening: lists during a 49 MP decode, 1 connection", lists_200=len(listed))


async def test_a_fifth_upload_in_flight_is_refused_and_pdfs_never_wait_for_images(
    settings, app, factory
):
    alice, bob = await factory.employee(), await factory.employee()
    ticket, bobs = await factory.ticket(alice), await factory.ticket(bob)
    async with app_with(settings) as (application, http):
        cleaner = application.state.receipt_cleaner
        images = [
            asyncio.create_task(upload(http, alice, ticket, slow_png(), f"big-{n}.png"))
            for n in range(4)
        ]
        await in_flight(cleaner, alice.id, 4)
        fifth = await upload(http, alice, ticket, MINIMAL_PDF, "fifth.pdf")
        started = time.monotonic()
        pdf = await upload(http, bob, bobs, MINIMAL_PDF, "taxi.pdf")
        pdf_took = time.monotonic() - started
        still_decoding = sum(not image.done() for image in images)
        finished = await asyncio.gather(*images)

    assert fifth.status_code == 429
    assert fifth.headers["retry-after"] == "5"
    assert fifth.json()["detail"] == (
        "You have 4 uploads in progress already; wait for them to finish, then try again "
        "in 5 seconds."
    )
    assert pdf.status_code == 201, pdf.text
    assert still_decoding >= 2 and pdf_took < 1
    assert [response.status_code for response in finished] == [201] * 4


async def test_uploads_past_the_process_cap_are_refused_for_everyone(settings, app, factory):
    alice, bob, carol = [await factory.employee() for _ in range(3)]
    tickets = [await factory.ticket(person) for person in (alice, bob, carol)]
    async with app_with(settings, receipt_uploads_per_process=2) as (application, http):
        cleaner = application.state.receipt_cleaner
        images = [
            asyncio.create_task(upload(http, person, ticket, slow_png(), "big.png"))
            for person, ticket in zip((alice, bob), tickets, strict=False)
        ]
        await in_flight(cleaner, alice.id, 1)
        await in_flight(cleaner, bob.id, 1)
        third = await upload(http, carol, tickets[2], MINIMAL_PDF, "taxi.pdf")
        await asyncio.gather(*images)

    assert third.status_code == 429
    assert third.headers["retry-after"] == "5"
    assert third.json()["detail"] == (
        "Too many receipts are being uploaded right now; try again in 5 seconds."
    )


async def test_the_filing_form_holds_no_database_connection_while_its_receipt_is_decoded(
    settings, app, factory
):
    alice, bob = await factory.employee(), await factory.employee()
    await factory.ticket(bob)
    async with app_with(settings, db_pool_size=1, db_timeout=0.5) as (application, http):
        cleaner = application.state.receipt_cleaner
        await log_in(http, alice)
        page = await http.get("/tickets")
        receipt = ("receipts", ("big.png", slow_png(), "image/png"))
        filing = asyncio.create_task(file_from_page(http, [receipt], page=page))
        await in_flight(cleaner, alice.id, 1)
        listed = await lists_until_done(filing, http, bob)
        filed = await filing

    assert filed.status_code == 303, filed.text
    assert listed and {response.status_code for response in listed} == {200}


# A pool at capacity is busy, not down


async def test_no_turn_at_the_database_in_time_is_503_busy_with_retry_after(
    settings, app, factory, caplog
):
    bob = await factory.employee()
    async with app_with(settings, db_pool_size=1, db_timeout=0.2) as (application, http):
        turns = application.state.database
        with caplog.at_level(logging.WARNING):
            async with turns.admitted():  # the one turn, held
                api = await http.get("/api/tickets", headers=bob.headers)
                page = await http.get("/")

    assert api.status_code == 503
    assert api.headers["retry-after"] == "2"
    assert api.json() == {"detail": BUSY_MESSAGE}
    assert page.status_code == 503
    assert BUSY_MESSAGE in page.text
    assert "database connections exhausted" in caplog.text


async def test_no_pooled_connection_in_time_is_503_busy_too(settings, app, factory, caplog):
    bob = await factory.employee()
    overrides = {"db_pool_size": 1, "db_max_overflow": 0, "db_timeout": 0.2}
    async with app_with(settings, **overrides) as (application, http):
        engine = application.state.database.engine
        with caplog.at_level(logging.WARNING):
            async with engine.connect() as held:
                await held.exec_driver_sql("SELECT 1")  # the pool's one connection, taken
                api = await http.get("/api/tickets", headers=bob.headers)

    assert api.status_code == 503
    assert api.headers["retry-after"] == "2"
    assert api.json() == {"detail": BUSY_MESSAGE}
    assert "database connections exhausted" in caplog.text


@pytest.fixture(autouse=True)
def _quiet_decoders(caplog):
    caplog.set_level(logging.ERROR, logger="concurrent.futures")
