"""Paying approved tickets from the console, and the payments it keeps: the confirmation
with each employee's total, the outcome in words, the batches and their bank file."""

import re
from typing import Any
from urllib.parse import urljoin

from httpx import AsyncClient, Response

from tests.support.console import ConsoleBrowser
from tests.support.factories import PASSWORD, Account, Factory
from tests.support.forms import csrf_from, submit_form

BOM = b"\xef\xbb\xbf"


async def approved(
    factory: Factory, client: AsyncClient, boss: Account, owner: Account, *amounts: str
) -> list[dict[str, Any]]:
    """Tickets of `owner` for `amounts`, approved by `boss` through the API."""
    tickets = [await factory.ticket(owner, amount=value) for value in amounts]
    for ticket in tickets:
        response = await client.post(f"/api/tickets/{ticket['id']}/approve", headers=boss.headers)
        assert response.status_code == 200, response.text
    return tickets


async def pay_by_api(
    client: AsyncClient, boss: Account, tickets: list[dict[str, Any]], reference: str = ""
) -> dict[str, Any]:
    response = await client.post(
        "/api/payments",
        json={"ticket_ids": [t["id"] for t in tickets], "reference": reference},
        headers=boss.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def statuses(client: AsyncClient, boss: Account) -> dict[int, str]:
    listed = (await client.get("/api/tickets", headers=boss.headers)).json()["items"]
    return {ticket["id"]: ticket["status"] for ticket in listed}


async def payment_count(client: AsyncClient, boss: Account) -> int:
    total: int = (await client.get("/api/payments", headers=boss.headers)).json()["total"]
    return total


def table_rows(page: str, table_id: str) -> list[list[str]]:
    """The body rows of the table `table_id`, as the text of each cell."""
    table = page[page.index(f'id="{table_id}"') :]
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    return [
        [
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


async def outcome(browser: ConsoleBrowser, done: Response, category: str = "success") -> str:
    """The message the list shows after an action that redirected there."""
    assert done.status_code == 303, done.text
    page = (await browser.client.get(done.headers["location"])).text
    assert f"text-bg-{category}" in page
    found = re.search(r'id="action-result">(.*?)</div>', page, re.S)
    assert found, "no outcome shown"
    return found.group(1)


async def a_mixed_selection(factory: Factory, client: AsyncClient, boss: Account) -> dict[str, Any]:
    """Alice with two approved tickets, Bob with one; a pending ticket, one already paid,
    and an id that names nothing."""
    alice = await factory.employee(username="Alice", email="alice@example.com")
    bob = await factory.employee(username="Bob", email="bob@example.com")
    alices = await approved(factory, client, boss, alice, "100.00", "20.50")
    bobs = await approved(factory, client, boss, bob, "1000.00")
    pending = await factory.ticket(alice, amount="7.00")
    already = await approved(factory, client, boss, bob, "3.00")
    await pay_by_api(client, boss, already, "EARLIER-RUN")
    return {
        "alice": alice,
        "bob": bob,
        "payable": [t["id"] for t in alices + bobs],
        "pending": pending["id"],
        "already": already[0]["id"],
        "missing": 999_999,
    }


def the_ids(selection: dict[str, Any]) -> list[int]:
    return [*selection["payable"], selection["pending"], selection["already"], selection["missing"]]


async def test_the_confirmation_totals_each_employee_and_says_what_it_skips(
    browser, factory, client
):
    boss = await factory.employer()
    chosen = await a_mixed_selection(factory, client, boss)
    await browser.login_as(boss)

    page = await browser.client.get(
        "/admin/tickets/action/pay", params={"pks": ",".join(map(str, the_ids(chosen)))}
    )

    assert page.status_code == 200
    first, second, third = chosen["payable"]
    assert table_rows(page.text, "to-pay") == [
        ["Alice", "alice@example.com", "2", "$120.50", f"#{first}, #{second}"],
        ["Bob", "bob@example.com", "1", "$1,000.00", f"#{third}"],
    ]
    assert "3 approved tickets to pay to 2 employees, totalling $1,120.50" in page.text
    assert 'id="to-pay-total">$1,120.50<' in page.text
    skipped = table_rows(page.text, "skipped-tickets")
    assert [(row[0], row[-1]) for row in skipped] == [
        (str(chosen["pending"]), "not approved"),
        (str(chosen["already"]), "already paid"),
        (str(chosen["missing"]), "not found or hidden"),
    ]
    assert "3 tickets will be skipped" in page.text
    # The reference is optional, and the page says what a blank one gives.
    assert "Bank or payment reference" in page.text
    assert "Optional: left blank, one is generated" in page.text
    assert csrf_from(page)
    # Looking pays nothing.
    assert {(await statuses(client, boss))[i] for i in chosen["payable"]} == {"approved"}


async def test_mark_paid_comes_after_approve_and_deny_in_the_actions_menu(browser, factory):
    alice, boss = await factory.employee(), await factory.employer()
    await factory.ticket(alice)
    await browser.login_as(boss)

    page = (await browser.client.get("/admin/tickets/list")).text

    assert page.index("action-custom-approve") < page.index("action-custom-deny")
    assert page.index("action-custom-deny") < page.index("action-custom-pay")
    assert re.search(r'id="action-custom-pay"[^>]*>\s*Mark paid\s*<', page)


async def test_paying_with_a_reference_pays_the_approved_and_says_what_it_skipped(
    browser, factory, client
):
    boss = await factory.employer()
    chosen = await a_mixed_selection(factory, client, boss)
    await browser.login_as(boss)

    done = await browser.confirm("tickets", "pay", the_ids(chosen), reference="SEPA <run> 14 & co")

    assert await outcome(browser, done) == (
        "Paid 3 tickets (2 employees, $1,120.50) as SEPA &lt;run&gt; 14 &amp; co; "
        "3 skipped: 1 not approved, 1 already paid, 1 not found or hidden."
    )
    now = await statuses(client, boss)
    assert [now[i] for i in chosen["payable"]] == ["paid", "paid", "paid"]
    assert now[chosen["pending"]] == "pending"
    payments = (await client.get("/api/payments", headers=boss.headers)).json()["items"]
    newest = payments[0]
    assert (newest["reference"], newest["tickets"], newest["total"]) == (
        "SEPA <run> 14 & co",
        3,
        "1120.50",
    )


async def test_a_blank_reference_is_generated(browser, factory, client):
    alice, boss = await factory.employee(), await factory.employer()
    tickets = await approved(factory, client, boss, alice, "30.00")
    await browser.login_as(boss)

    done = await browser.confirm("tickets", "pay", [tickets[0]["id"]], reference="  ")

    message = await outcome(browser, done)
    assert re.fullmatch(
        r"Paid 1 ticket \(1 employee, \$30\.00\) as PAY-\d{8}-[0-9A-F]{6}\.", message
    )
    payments = (await client.get("/api/payments", headers=boss.headers)).json()["items"]
    assert message.endswith(f" as {payments[0]['reference']}.")


async def test_a_taken_reference_pays_nothing_and_keeps_the_form_to_fix_it(
    browser, factory, client
):
    alice, boss = await factory.employee(), await factory.employer()
    first, second = await approved(factory, client, boss, alice, "10.00", "20.00")
    await pay_by_api(client, boss, [first], "RUN-2026-11")
    await browser.login_as(boss)

    refused = await browser.confirm("tickets", "pay", [second["id"]], reference="RUN-2026-11")

    assert refused.status_code == 409
    assert "A payment with the reference “RUN-2026-11” already exists" in refused.text
    assert 'value="RUN-2026-11"' in refused.text  # as typed, to change it
    assert table_rows(refused.text, "to-pay")[0][3] == "$20.00"
    assert (await statuses(client, boss))[second["id"]] == "approved"
    assert await payment_count(client, boss) == 1

    fixed = await browser.client.post(
        "/admin/tickets/action/pay",
        data={
            "pks": str(second["id"]),
            "reference": "RUN-2026-11b",
            "csrf_token": csrf_from(refused),
        },
    )
    assert "as RUN-2026-11b." in await outcome(browser, fixed)


async def test_a_reference_too_long_is_refused_on_the_form(browser, factory, client):
    alice, boss = await factory.employee(), await factory.employer()
    tickets = await approved(factory, client, boss, alice, "10.00")
    await browser.login_as(boss)

    refused = await browser.confirm("tickets", "pay", [tickets[0]["id"]], reference="R" * 141)

    assert refused.status_code == 400
    assert "at most 140 characters" in refused.text
    assert await payment_count(client, boss) == 0


async def test_when_nothing_can_be_paid_the_page_says_so_and_nothing_is_recorded(
    browser, factory, client
):
    alice, boss, other = (
        await factory.employee(),
        await factory.employer(),
        await factory.employer(),
    )
    pending = await factory.ticket(alice)
    tickets = await approved(factory, client, boss, alice, "10.00")
    await browser.login_as(boss)

    nothing = await browser.client.get(f"/admin/tickets/action/pay?pks={pending['id']}")
    # A confirmation left open while another employer pays the same ticket.
    page = await browser.client.get(f"/admin/tickets/action/pay?pks={tickets[0]['id']}")
    await pay_by_api(client, other, tickets, "THEIR-RUN")
    late = await browser.client.post(
        "/admin/tickets/action/pay",
        data={"pks": str(tickets[0]["id"]), "reference": "MY-RUN", "csrf_token": csrf_from(page)},
    )

    assert 'id="nothing-to-pay"' in nothing.text
    assert ">Mark paid</button>" not in nothing.text
    assert await outcome(browser, late, "warning") == (
        "None of these tickets can be paid (already paid); nothing was recorded."
    )
    list_page = (await browser.client.get("/admin/tickets/list")).text
    assert "text-bg-warning" not in list_page  # shown once
    payments = (await client.get("/api/payments", headers=boss.headers)).json()["items"]
    assert [p["reference"] for p in payments] == ["THEIR-RUN"]


async def test_the_payments_list_shows_the_newest_batch_first_in_the_configured_zone(
    paris, factory, client
):
    _, browser, _ = paris
    alice, boss = await factory.employee(), await factory.employer(username="Pay Master")
    older, newer = await approved(factory, client, boss, alice, "1000.00", "20.50")
    await pay_by_api(client, boss, [older], "RUN-1")
    await pay_by_api(client, boss, [newer], "RUN-2")
    await browser.login_as(boss)

    page = (await browser.client.get("/admin/payments/list")).text

    references = re.findall(
        r'<a class="reference" href="details/(\d+)"><bdi>([^<]+)</bdi></a>', page
    )
    assert [reference for _, reference in references] == ["RUN-2", "RUN-1"]
    assert '<span class="amount">$1,000.00</span>' in page
    assert '<span class="amount">$20.50</span>' in page
    assert "Pay Master" in page
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d Europe/Paris", page)
    searched = (await browser.client.get("/admin/payments/list?search=run-1")).text
    assert "RUN-1" in searched and "RUN-2" not in searched


async def test_a_payments_page_shows_each_employees_share_with_their_tickets(
    browser, factory, client
):
    alice = await factory.employee(username="Alice", email="alice@example.com")
    bob = await factory.employee(username="Bob", email="bob@example.com")
    boss = await factory.employer(username="Pay Master")
    alices = await approved(factory, client, boss, alice, "100.00", "20.50")
    bobs = await approved(factory, client, boss, bob, "5.00")
    payment = await pay_by_api(client, boss, alices + bobs, "SEPA 14")
    await browser.login_as(boss)

    page = (await browser.client.get(f"/admin/payments/details/{payment['id']}")).text
    ticket_page = await browser.client.get(f"/admin/tickets/details/{alices[0]['id']}")
    missing = await browser.client.get("/admin/payments/details/999999")

    assert 'id="payment-reference" dir="auto">SEPA 14<' in page
    assert "3 tickets, $125.50" in page
    assert 'id="payment-by" dir="auto">Pay Master<' in page
    first, second = (t["id"] for t in alices)
    assert table_rows(page, "shares") == [
        ["Alice", "alice@example.com", "2", "$120.50", f"#{first}, #{second}"],
        ["Bob", "bob@example.com", "1", "$5.00", f"#{bobs[0]['id']}"],
    ]
    assert f'href="/admin/tickets/details/{first}"' in page
    assert ticket_page.status_code == 200
    assert f'href="/admin/payments/{payment["id"]}/export"' in page
    assert missing.status_code == 404


async def test_the_consoles_file_is_the_apis_byte_for_byte_with_formulas_neutralised(
    browser, factory, client
):
    alice = await factory.employee(username="@Alice", email="alice@example.com")
    boss = await factory.employer()
    tickets = await approved(factory, client, boss, alice, "1249.99", "0.01")
    payment = await pay_by_api(client, boss, tickets, '=HYPERLINK("http://evil.example")')
    await browser.login_as(boss)

    console = await browser.client.get(f"/admin/payments/{payment['id']}/export")
    api = await client.get(f"/api/payments/{payment['id']}/export", headers=boss.headers)

    assert console.status_code == 200 and api.status_code == 200
    assert console.content == api.content
    assert console.headers["content-type"] == api.headers["content-type"]
    assert console.headers["content-disposition"] == api.headers["content-disposition"]
    assert console.content.startswith(BOM)
    text = console.content.decode("utf-8-sig")
    assert "'@Alice" in text and "'=HYPERLINK" in text
    assert "1250.00" in text


async def test_an_employee_gets_neither_the_payments_nor_their_file(browser, factory, client):
    alice, boss = await factory.employee(), await factory.employer()
    tickets = await approved(factory, client, boss, alice, "10.00")
    payment = await pay_by_api(client, boss, tickets, "RUN-1")
    # Logged in on the employee pages: a session of their own, which the console refuses.
    logged_in = await submit_form(client, "/", {"email": alice.email, "password": PASSWORD})
    assert logged_in.status_code == 303

    urls = (
        "/admin/payments/list",
        f"/admin/payments/details/{payment['id']}",
        f"/admin/payments/{payment['id']}/export",
    )
    for url in urls:
        response = await client.get(url)
        assert response.status_code == 302, url
        assert "/admin/login" in response.headers["location"]
        assert "RUN-1" not in response.text
    await browser.login_as(boss)
    assert (await browser.client.get(urls[-1])).status_code == 200


async def test_a_paid_tickets_page_names_its_payment_and_the_list_its_status(
    paris, factory, client
):
    _, browser, _ = paris
    alice, boss = await factory.employee(), await factory.employer(username="Pay Master")
    paid, unpaid = await approved(factory, client, boss, alice, "10.00", "20.00")
    payment = await pay_by_api(client, boss, [paid], "SEPA 14")
    await browser.login_as(boss)

    page = (await browser.client.get(f"/admin/tickets/details/{paid['id']}")).text
    other = (await browser.client.get(f"/admin/tickets/details/{unpaid['id']}")).text
    link = re.search(r'<a id="payment" href="([^"]+)">', page).group(1)
    batch = await browser.client.get(urljoin(f"/admin/tickets/details/{paid['id']}", link))
    listed = (await browser.client.get("/admin/tickets/list?status=paid")).text

    assert (
        f'<a id="payment" href="../../payments/details/{payment["id"]}"><bdi>SEPA 14</bdi></a>'
        in page
    )
    paid_at = re.search(r"<td>Paid at</td>\s*<td>([^<]*)</td>", page).group(1)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d Europe/Paris", paid_at)
    assert re.search(r"<td>Paid by</td>\s*<td><bdi>Pay Master</bdi></td>", page)
    assert 'badge bg-blue-lt status">paid<' in page
    assert 'id="payment"' not in other
    assert "SEPA 14" in batch.text
    assert 'badge bg-blue-lt status">paid<' in listed
    assert f"details/{unpaid['id']}" not in listed
