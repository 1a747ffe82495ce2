"""The whole story in a real browser (headless Chromium driven by Playwright) against
`contoso serve` on real PostgreSQL. Screenshots of each page land in test-artifacts/e2e/.
"""

import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path

import httpx
from PIL import Image, ImageDraw
from playwright.async_api import Page, async_playwright, expect

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, emailed, needs_chromium, shot

PASSWORD = "a long and sturdy passphrase"
# The week's exchange rates are recorded as valid from a week ago.
RATES_FROM = date.today() - timedelta(days=7)

pytestmark = needs_chromium


async def register(page: Page, base: str, email: str, name: str, role: str, prefix: str) -> None:
    await page.goto(base + "/")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await shot(page, f"{prefix}-login")
    await page.get_by_role("button", name="Login / Register").click()
    await expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    await page.get_by_label("Your name").fill(name)
    await page.get_by_label(f"an {role}", exact=False).check()
    await page.get_by_label("Password again").fill(PASSWORD)
    await shot(page, f"{prefix}-register")
    await page.get_by_role("button", name="Create account").click()


async def file_ticket(
    page: Page,
    amount: str,
    description: str,
    link: str = "",
    category: str | None = None,
    receipt: Path | None = None,
    currency: str = "USD",
    shown: str | None = None,
) -> None:
    """File from the page; the notice names the amount as `shown` (`$12.50` unless told)."""
    await page.get_by_label("Date of purchase").fill(date.today().isoformat())
    await page.get_by_label("Currency").select_option(value=currency)
    await page.get_by_label("Amount").fill(amount)
    if category is not None:
        await page.get_by_label("Category").select_option(label=category)
    await page.get_by_label("What was it for?").fill(description)
    await page.get_by_label("Links to the purchase (one per line)").fill(link)
    if receipt is not None:
        await page.get_by_label("Receipts").set_input_files(receipt)
    await page.get_by_role("button", name="File ticket").click()
    shown = shown or f"${amount}"
    await expect(page.locator(".alert", has_text=f": {shown} for {description}")).to_be_visible()


async def console_action(page: Page, base: str, view: str, row_text: str, action: str) -> None:
    """Select one row in a console list and run an action through its confirmation page."""
    await page.goto(f"{base}/admin/{view}/list")
    await page.locator("tbody tr", has_text=row_text).locator(".select-box").check()
    await page.locator("#dropdownMenuButton").click()
    await page.locator(f"#action-custom-{action}").click()
    await expect(page.get_by_role("heading", name=f"{action.title()} 1")).to_be_visible()
    await page.get_by_role("button", name=action.title()).click()


def photographed_receipt(
    folder: Path, name: str = "IMG_2041.jpg", says: str = "TGV Paris - Lyon  64.00 EUR"
) -> Path:
    """A phone photo of a receipt: a JPEG that says where it was taken (GPS EXIF)."""
    photo = Image.new("RGB", (640, 480), "white")
    ImageDraw.Draw(photo).text((40, 40), says, fill="black")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (48.0, 50.0, 0.0), 3: "E", 4: (2.0, 21.0, 0.0)}
    path = folder / name
    photo.save(path, "JPEG", exif=exif)
    return path


async def test_the_whole_story_in_a_real_browser(server, tmp_path):
    base = server
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        phone = {"viewport": {"width": 390, "height": 844}}
        employee = await (await browser.new_context(**phone)).new_page()
        employer = await (
            await browser.new_context(viewport={"width": 1280, "height": 900})
        ).new_page()

        # An employee registers through the Login page.
        await register(employee, base, "dana@example.com", "Dana", "employee", "01-employee")
        await expect(employee).to_have_url(base + "/tickets")

        # An employer registers and lands in the console, already logged in, and records
        # this week's exchange rates for the yen and the euro.
        await register(employer, base, "boss@example.com", "Boss", "employer", "03-employer")
        await expect(employer).to_have_url(base + "/admin/")
        for currency, rate in (("JPY", "0.006336"), ("EUR", "1.1512")):
            await employer.goto(base + "/admin/exchange-rates/list")
            await employer.get_by_role("link", name="Record a rate").click()
            await employer.get_by_label("Currency").fill(currency)
            await employer.get_by_label("Rate (USD for 1 unit)").fill(rate)
            await employer.get_by_label("Valid from").fill(RATES_FROM.isoformat())
            await employer.get_by_role("button", name="Record rate").click()
            await expect(employer.locator("#action-result")).to_have_text(
                f"Recorded 1 {currency} = ${rate} from {RATES_FROM}."
            )
        await shot(employer, "03b-console-exchange-rates")
        # Every column on a 1280 px screen, and no menu or checkboxes for a selection
        # that nothing could be done with (rates are never changed or deleted).
        rates = employer.locator(".table-responsive").first
        widths = await rates.evaluate("el => [el.scrollWidth, el.clientWidth]")
        assert widths[0] <= widths[1], widths
        await expect(employer.locator("#dropdownMenuButton")).to_be_hidden()
        await expect(employer.locator(".select-box").first).to_be_hidden()

        # Back from a trip, the employee files a taxi in Tokyo in yen and a hotel in Lyon
        # in euros, each converted at the week's rate, and a minibar bill in dollars.
        await employee.reload()
        await file_ticket(
            employee,
            "3400",
            "Taxi to the client",
            "https://taxi.example.com/r/1",
            currency="JPY",
            shown="¥3,400 (reimbursed as $21.54)",
        )
        await file_ticket(
            employee,
            "268.00",
            "Hotel, one night",
            "https://hotel.example.com/b/7",
            currency="EUR",
            shown="€268.00 (reimbursed as $308.52)",
        )
        await file_ticket(employee, "24.00", "Hotel minibar")
        taxi = employee.locator(".ticket", has_text="Taxi to the client")
        await expect(taxi.locator(".company-amount")).to_contain_text("Reimbursed as $21.54")
        await shot(employee, "02-employee-my-tickets")

        await employer.goto(base + "/admin/")
        await expect(employer.locator("#pending-count")).to_have_text("3")
        await shot(employer, "04-console-dashboard")

        # The employer sets a travel policy: a receipt above 25.00.
        await employer.goto(base + "/admin/categories/list")
        await employer.get_by_role("link", name="New category").click()
        await employer.get_by_label("Name").fill("Travel")
        await employer.get_by_label("Receipt required above").fill("25.00")
        await employer.get_by_role("button", name="Create category").click()
        await expect(employer.get_by_role("cell", name="Travel")).to_be_visible()
        await shot(employer, "04b-console-categories")

        # On the phone, the employee files a train ticket with a photo of its receipt, and
        # a parking ticket whose receipt they do not have: it is flagged.
        await employee.reload()
        receipt = photographed_receipt(tmp_path)
        travel = "Travel (receipt above $25.00)"  # as the form offers it
        await file_ticket(employee, "64.00", "Train to Lyon", category=travel, receipt=receipt)
        await file_ticket(employee, "30.00", "Parking at the station", category=travel)
        train = employee.locator(".ticket", has_text="Train to Lyon")
        await expect(train.get_by_role("link", name="IMG_2041.jpg")).to_be_visible()
        parking = employee.locator(".ticket", has_text="Parking at the station")
        await expect(parking.locator(".flag")).to_have_text(
            "Receipt required above $25.00 and none attached"
        )
        await shot(employee, "04c-employee-receipt-and-flag")

        # The employer sees the train's category and receipt, and approves it from its page.
        await employer.goto(base + "/admin/tickets/list")
        row = employer.locator("tbody tr", has_text="Train to Lyon")
        await expect(row.locator(".category")).to_have_text("Travel")
        await row.locator("a[href*='/tickets/details/']").click()
        thumbnail = employer.locator("img.receipt-thumb")
        await expect(thumbnail).to_be_visible()
        # Loaded and decoded (decode() waits for the image; it fails on a broken one).
        assert await thumbnail.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
        await shot(employer, "04d-console-ticket-with-receipt")
        # The photo kept its pixels but not where it was taken.
        served = await employer.request.get(base + (await thumbnail.get_attribute("src") or ""))
        assert served.headers["content-type"] == "image/jpeg"
        assert not Image.open(io.BytesIO(await served.body())).getexif().get_ifd(0x8825)
        await employer.get_by_role("link", name="Approve").click()
        await employer.get_by_role("button", name="Approve").click()
        await expect(employer.get_by_text("Approved 1 ticket.")).to_be_attached()

        # The list shows every amount in dollars, with what was spent beneath.
        await employer.goto(base + "/admin/tickets/list")
        row = employer.locator("tbody tr", has_text="Taxi to the client")
        await expect(row.locator(".amount")).to_have_text("$21.54")
        await expect(row.locator(".original")).to_contain_text("¥3,400 at 0.006336")
        row = employer.locator("tbody tr", has_text="Hotel, one night")
        await expect(row.locator(".amount")).to_have_text("$308.52")
        await expect(row.locator(".original")).to_contain_text("€268.00 at 1.1512")
        await shot(employer, "05-console-tickets")

        # Deny the minibar from its page, with a note.
        row = employer.locator("tbody tr", has_text="Hotel minibar")
        await row.locator("a[href*='/tickets/details/']").click()
        await shot(employer, "06-console-ticket-detail")
        await employer.get_by_role("link", name="Deny").click()
        await employer.get_by_label("Note (optional; the employee sees it)").fill(
            "Please attach the itemised receipt."
        )
        await shot(employer, "07-console-confirm-deny")
        await employer.get_by_role("button", name="Deny").click()
        await expect(employer.get_by_text("Denied 1 ticket.")).to_be_attached()

        # Approve the taxi, the hotel and the parking from the list, in bulk: the flagged
        # parking is listed apart, and left pending unless the box is ticked.
        await employer.goto(f"{base}/admin/tickets/list")
        for text in ("Taxi to the client", "Hotel, one night", "Parking at the station"):
            await employer.locator("tbody tr", has_text=text).locator(".select-box").check()
        await employer.locator("#dropdownMenuButton").click()
        await employer.locator("#action-custom-approve").click()
        await expect(employer.locator("#flagged-tickets")).to_contain_text("Parking at the station")
        await expect(employer.get_by_label("Also approve the 1 flagged ticket")).not_to_be_checked()
        await shot(employer, "07b-console-confirm-approve-flagged")
        await employer.get_by_role("button", name="Approve").click()
        await expect(
            employer.get_by_text(
                "Approved 2 tickets; 1 skipped: 1 flagged (approve it on its own, or include "
                "flagged tickets)."
            )
        ).to_be_attached()

        # The parking has no receipt: the employer sends it back from its page, asking
        # for one (a note is required to send a ticket back).
        row = employer.locator("tbody tr", has_text="Parking at the station")
        await row.locator("a[href*='/tickets/details/']").click()
        await employer.get_by_role("link", name="Request changes").click()
        await expect(
            employer.get_by_role("heading", name="Send 1 ticket back for changes?")
        ).to_be_visible()
        await employer.get_by_label("What should change?").fill(
            "Please attach the parking receipt."
        )
        await shot(employer, "04f-console-confirm-request-changes")
        await employer.get_by_role("button", name="Request changes").click()
        await expect(employer.get_by_text("Sent 1 ticket back for changes.")).to_be_attached()

        # The employee gets an email saying what to change, with a link to the ticket,
        # and opens it on the phone.
        mail = await emailed(
            tmp_path / "data" / "outbox", "dana@example.com", "Please attach the parking receipt."
        )
        link = re.search(r"https?://\S+?(/tickets/\d+)\b", mail)
        assert link, mail
        await employee.goto(base + link.group(1))
        await expect(employee.get_by_role("heading", name="Ticket #")).to_be_visible()
        await expect(employee.locator(".changes-requested")).to_contain_text(
            "Changes requested by Boss: Please attach the parking receipt."
        )
        await shot(employee, "04e-employee-changes-requested")

        # On My tickets: three approved, the minibar denied with the note, and the parking
        # sent back with what to change.
        await employee.goto(base + "/tickets")
        hotel = employee.locator(".ticket", has_text="Hotel, one night")
        minibar = employee.locator(".ticket", has_text="Hotel minibar")
        for approved in (taxi, hotel, train):
            await expect(approved.locator(".status")).to_have_text("approved")
        await expect(minibar.locator(".status")).to_have_text("denied")
        await expect(minibar.locator(".decision-note")).to_have_text(
            "Please attach the itemised receipt."
        )
        await expect(parking.locator(".changes-requested")).to_contain_text(
            "Changes requested by Boss: Please attach the parking receipt."
        )
        # 21.54 + 308.52 + 64.00, to the cent.
        await expect(employee.locator("#owed")).to_contain_text("$394.06")

        # On the phone, the employee attaches a photo of the parking receipt and resubmits
        # the ticket: pending again, and no longer flagged.
        await parking.get_by_role("link", name="Edit the ticket or its receipts").click()
        await employee.get_by_label("Add receipts").set_input_files(
            photographed_receipt(tmp_path, "IMG_2057.jpg", "Parking Gare Part-Dieu  30.00")
        )
        await employee.get_by_role("button", name="Save").click()
        await expect(
            employee.locator(".alert", has_text="resubmit it when it is ready")
        ).to_be_visible()
        await parking.get_by_role("button", name="Resubmit").click()
        await expect(employee.locator(".alert", has_text="resubmitted")).to_be_visible()
        await expect(parking.locator(".status")).to_have_text("pending")
        await expect(parking.get_by_role("link", name="IMG_2057.jpg")).to_be_visible()
        await expect(parking.locator(".flag")).to_have_count(0)
        # And says so under the ticket, on its page.
        await parking.get_by_role("link", name="Comments").click()
        await employee.get_by_label("Add a comment").fill("Attached: the station car park's.")
        await employee.get_by_role("button", name="Comment").click()
        await expect(employee.locator(".comment-body")).to_have_text(
            "Attached: the station car park's."
        )
        await employee.goto(base + "/tickets")

        # The employer approves it from its page, where the receipt, the comment and every
        # round of the history now are.
        await employer.goto(f"{base}/admin/tickets/list")
        row = employer.locator("tbody tr", has_text="Parking at the station")
        await row.locator("a[href*='/tickets/details/']").click()
        await expect(employer.locator("img.receipt-thumb")).to_be_visible()
        await expect(employer.locator("#changes-requested")).to_have_count(0)
        await expect(employer.locator("#comments .comment-body")).to_have_text(
            "Attached: the station car park's."
        )
        await shot(employer, "04g-console-ticket-resubmitted")
        # Paid in dollars and not yet decided: no rows for a conversion, a decision or a
        # payment, only what there is.
        details = employer.locator(".card-table").first
        for shown in ("Amount", "Currency", "Status", "Description", "Filed at"):
            await expect(details.get_by_role("cell", name=shown, exact=True)).to_be_visible()
        for hidden in ("Amount spent", "Exchange rate", "Decided by", "Note", "Payment"):
            await expect(details.get_by_role("cell", name=hidden, exact=True)).to_be_hidden()
        await employer.get_by_role("link", name="Approve").click()
        await employer.get_by_role("button", name="Approve").click()
        await expect(employer.get_by_text("Approved 1 ticket.")).to_be_attached()
        await employee.reload()
        await expect(parking.locator(".status")).to_have_text("approved")
        # 394.06 + 30.00.
        await expect(employee.locator("#owed")).to_contain_text("$424.06")

        # Month end: the employer pays the four approved tickets, in yen, euros and
        # dollars, in one batch in dollars, with the bank transfer's reference, after a
        # confirmation that sums them per employee.
        await employer.goto(f"{base}/admin/tickets/list?status=approved")
        approved_ones = ("Taxi to the client", "Hotel, one night", "Train to Lyon", "Parking")
        for text in approved_ones:
            await employer.locator("tbody tr", has_text=text).locator(".select-box").check()
        await employer.locator("#dropdownMenuButton").click()
        await employer.locator("#action-custom-pay").click()
        await expect(employer.locator("#to-pay-summary")).to_contain_text("totalling $424.06")
        await employer.get_by_label("Bank or payment reference").fill("SEPA-2026-11-28-01")
        await shot(employer, "07c-console-confirm-payment")
        await employer.get_by_role("button", name="Mark paid").click()
        await expect(employer.get_by_text("Paid 4 tickets")).to_be_attached()

        # The employee sees them paid, with the reference, and nothing owed any more.
        await employee.reload()
        for paid in (taxi, hotel, train, parking):
            await expect(paid.locator(".status")).to_have_text("paid")
            await expect(paid.locator(".payment")).to_contain_text("SEPA-2026-11-28-01")
        await expect(employee.locator("#owed")).to_have_text("Nothing owed to you right now.")
        await shot(employee, "08-employee-decided")

        # The employer suspends the employee.
        await console_action(employer, base, "employees", "dana@example.com", "suspend")
        await expect(employer.get_by_text("Suspended 1 employee.")).to_be_attached()
        await shot(employer, "09-console-employees")

        # The employee's next click and next login are refused.
        await employee.get_by_label("Amount").fill("9.99")
        await employee.get_by_label("What was it for?").fill("Filed after suspension")
        await employee.get_by_role("button", name="File ticket").click()
        await expect(employee.get_by_text("This account is suspended")).to_be_visible()
        await expect(employee.get_by_role("heading", name="Log in or register")).to_be_visible()
        await employee.get_by_label("Email").fill("dana@example.com")
        await employee.get_by_label("Password").fill(PASSWORD)
        await employee.get_by_role("button", name="Login / Register").click()
        await expect(employee.get_by_text("This account is suspended")).to_be_visible()
        await shot(employee, "10-employee-suspended")

        # The employer's ticket list no longer shows the tickets.
        await employer.goto(base + "/admin/tickets/list")
        await expect(employer.get_by_text("Taxi to the client")).to_have_count(0)
        await expect(employer.get_by_text("of 0 items")).to_be_attached()

        # Reactivation brings them back.
        await console_action(employer, base, "employees", "dana@example.com", "reactivate")
        await employer.goto(base + "/admin/tickets/list")
        await expect(employer.get_by_text("Taxi to the client")).to_be_visible()
        await expect(employer.get_by_text("Hotel, one night")).to_be_visible()
        await shot(employer, "11-console-reactivated")

        await browser.close()


REVIEW = [
    ("Dinner with the Lisbon client after the contract review, three guests", "186.40", "EUR"),
    ("Order of two 27-inch monitors for the new starters in the design team", "1249.99", "USD"),
    ("Train from Paris to Lyon and back for the supplier audit", "142.00", "EUR"),
    ("Taxi", "3400", "JPY"),
]


def _seed_for_review(base: str) -> None:
    """An employer with this week's rates, and an employee with four ordinary tickets
    (one with a long link) in euros, dollars and yen."""
    with httpx.Client(base_url=base) as api:
        rev = api.post(
            "/api/auth/register",
            json={
                "email": "rev@example.com",
                "password": PASSWORD,
                "username": "Reviewer",
                "role": "employer",
            },
        ).json()["access_token"]
        for currency, rate in (("JPY", "0.006336"), ("EUR", "1.1512")):
            api.post(
                "/api/exchange-rates",
                headers={"Authorization": f"Bearer {rev}"},
                json={"currency": currency, "rate": rate, "valid_from": RATES_FROM.isoformat()},
            ).raise_for_status()
        zoe = api.post(
            "/api/auth/register",
            # A long address: it must not push the status off a 1366 px screen.
            json={
                "email": "zoe.lindqvist-moreau@accounts-payable.example.com",
                "password": PASSWORD,
                "username": "Zoë 李",
            },
        ).json()["access_token"]
        for description, amount, currency in REVIEW:
            api.post(
                "/api/tickets",
                headers={"Authorization": f"Bearer {zoe}"},
                json={
                    "spent_on": date.today().isoformat(),
                    "amount": amount,
                    "currency": currency,
                    "description": description,
                    "links": ["https://shop.example.com/orders/2026/11/AB-99812?ref=expense-tool"],
                },
            ).raise_for_status()


async def test_an_employer_reviews_decides_and_exports_at_1366_by_768(server, tmp_path):
    base = server
    _seed_for_review(base)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(
            viewport={"width": 1366, "height": 768}, accept_downloads=True
        )
        page = await context.new_page()
        await page.goto(base + "/admin/login")
        await page.get_by_label("Email").fill("rev@example.com")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await page.goto(base + "/admin/tickets/list")
        await shot(page, "12-console-tickets-1366")

        # Every column a reviewer decides by is on screen, without scrolling sideways.
        first = page.locator("tbody tr").first
        status = await first.locator(".status").bounding_box()
        assert status is not None
        assert status["x"] >= 0 and status["x"] + status["width"] <= 1366
        table = page.locator(".table-responsive").first
        widths = await table.evaluate("el => [el.scrollWidth, el.clientWidth]")
        assert widths[0] <= widths[1], widths
        await expect(first.locator(".amount")).to_have_text(re.compile(r"^\$[\d,]+\.\d\d$"))
        # A ticket spent in yen shows the yen beneath its dollars, still on screen.
        taxi = page.locator("tbody tr", has_text="Taxi")
        await expect(taxi.locator(".original")).to_contain_text("¥3,400")
        original = await taxi.locator(".original").bounding_box()
        assert original is not None and original["x"] + original["width"] <= 1366

        # Select two rows, approve them through SQLAdmin's own menu, read the result.
        for text in ("Taxi", "Train from Paris"):
            await page.locator("tbody tr", has_text=text).locator(".select-box").check()
        await page.locator("#dropdownMenuButton").click()
        await page.locator("#action-custom-approve").click()
        await expect(page.get_by_role("heading", name="Approve 2 tickets?")).to_be_visible()
        await page.get_by_role("button", name="Approve").click()
        await expect(page.locator("#action-result")).to_have_text("Approved 2 tickets.")

        # A filtered list exports exactly its rows, and a spreadsheet reads them.
        await page.goto(base + "/admin/tickets/list?status=pending")
        shown = await page.locator("tbody tr").count()
        async with page.expect_download() as waiting:
            await page.get_by_role("link", name="Export").click()
        download = await waiting.value
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
        rows = list(csv.DictReader(io.StringIO(saved.read_bytes().decode("utf-8-sig"))))

        # The approval's email to the owner is on the Emails page, the whole row on screen.
        await page.goto(base + "/admin/emails/list")
        # (The employers' digest may be listed too, whenever the sender queued it.)
        approval = page.locator(".email-subject", has_text="Approved: 2 tickets")
        await expect(approval).to_have_count(1)
        await shot(page, "13-console-emails-1366")
        table = page.locator(".table-responsive").first
        widths = await table.evaluate("el => [el.scrollWidth, el.clientWidth]")
        assert widths[0] <= widths[1], widths

        await browser.close()

    assert shown == 2
    assert sorted(row["Description"] for row in rows) == sorted(
        description for description, *_ in REVIEW[:2]
    )
    assert {row["Status"].lower() for row in rows} == {"pending"}
    assert {row["Employee"] for row in rows} == {"Zoë 李"}
