"""The console's audit log: read-only, in words people use."""

import re

from contoso.admin.audit import KIND_LABELS
from contoso.models import EventKind
from contoso.tickets.workflow import TRANSITIONS


async def _a_denial_and_a_suspension(factory, client, note: str = "No receipt"):
    alice, boss = await factory.employee(), await factory.employer(username="Boss Lady")
    ticket = await factory.ticket(alice)
    await client.post(
        f"/api/tickets/{ticket['id']}/deny", json={"note": note}, headers=boss.headers
    )
    await client.post(f"/api/employees/{alice.id}/suspend", headers=boss.headers)
    await client.post(f"/api/employees/{alice.id}/reactivate", headers=boss.headers)
    return boss


def _cells(page: str, column: str) -> list[str]:
    return re.findall(rf'<td class="column-{column}">\s*(.*?)\s*</td>', page, re.S)


async def test_the_log_says_what_happened_in_words(browser, factory, client):
    boss = await _a_denial_and_a_suspension(factory, client)
    await browser.login_as(boss)

    page = (await browser.client.get("/admin/audit-log/list")).text

    assert _cells(page, "kind") == ["Employee reactivated", "Employee suspended", "Ticket denied"]
    assert _cells(page, "actor") == ["Boss Lady"] * 3


async def test_the_filter_offers_labels_and_keeps_the_enum_values_in_its_links(
    browser, factory, client
):
    boss = await _a_denial_and_a_suspension(factory, client)
    await browser.login_as(boss)

    page = (await browser.client.get("/admin/audit-log/list")).text
    denials = (await browser.client.get("/admin/audit-log/list?kind=ticket_denied")).text

    choices = re.findall(r'href="[^"]*\?kind=(\w+)"[^>]*>\s*([^<]*?)\s*</a>', page)
    # Every change of a ticket's status, as declared, then the employees'.
    assert choices == [("__all", "All")] + [
        (kind.value, label) for kind, label in KIND_LABELS.items()
    ]
    assert {t.event: t.logged for t in TRANSITIONS.values()} | {
        EventKind.EMPLOYEE_SUSPENDED: "Employee suspended",
        EventKind.EMPLOYEE_REACTIVATED: "Employee reactivated",
    } == KIND_LABELS
    # As people name them.
    assert {
        ("ticket_approved", "Ticket approved"),
        ("ticket_denied", "Ticket denied"),
        ("ticket_changes_requested", "Changes requested"),
        ("ticket_resubmitted", "Ticket resubmitted"),
        ("ticket_paid", "Ticket paid"),
    } <= set(choices)
    assert _cells(denials, "kind") == ["Ticket denied"]


async def test_a_read_only_log_has_no_checkboxes_and_no_actions_menu(browser, factory, client):
    boss = await _a_denial_and_a_suspension(factory, client)
    await browser.login_as(boss)

    page = (await browser.client.get("/admin/audit-log/list")).text

    assert len(_cells(page, "kind")) == 3  # the rows are there
    assert 'type="checkbox"' not in page
    assert ">Actions<" not in re.sub(r"\s+", "", page)
    assert "Export" in page


async def test_a_note_is_shown_whole_with_its_line_breaks(browser, factory, client):
    note = "No receipt attached.\nPlease add the itemised one & file again."
    boss = await _a_denial_and_a_suspension(factory, client, note=note)
    await browser.login_as(boss)

    page = (await browser.client.get("/admin/audit-log/list")).text

    assert (
        '<div class="audit-note" dir="auto">No receipt attached.\n'
        "Please add the itemised one &amp; file again.</div>" in page
    )
    assert re.search(r"\.audit-note\s*\{[^}]*white-space:\s*pre-line", page)


async def test_a_payment_is_logged_per_ticket_in_words_and_can_be_filtered(
    browser, factory, client
):
    alice, boss = await factory.employee(), await factory.employer(username="Boss Lady")
    tickets = [await factory.ticket(alice) for _ in range(2)]
    for ticket in tickets:
        await client.post(f"/api/tickets/{ticket['id']}/approve", headers=boss.headers)
    paid = await client.post(
        "/api/payments", json={"ticket_ids": [t["id"] for t in tickets]}, headers=boss.headers
    )
    assert paid.status_code == 201, paid.text
    await browser.login_as(boss)

    payments = (await browser.client.get("/admin/audit-log/list?kind=ticket_paid")).text

    assert _cells(payments, "kind") == ["Ticket paid", "Ticket paid"]
    assert {f'href="../tickets/details/{t["id"]}"' in payments for t in tickets} == {True}
