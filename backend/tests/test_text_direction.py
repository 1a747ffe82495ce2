"""Text-direction controls (bidi embeddings, overrides and isolates) can make stored text
display as something else: "https://\\u202emoc.elgoog\\u202c.evil.example/x" reads
"...google.com..." on screen. They are refused in every field people type, at every door
(API, pages, console), and what people typed is isolated in the HTML, so right-to-left
text cannot reorder the words around it."""

import re

import pytest

from tests.support.console import ConsoleBrowser
from tests.support.forms import csrf_from, submit_form
from tests.web.pages import log_in

SPOOFED_LINK = "https://\u202emoc.elgoog\u202c.evil.example/x"
CONTROLS = [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
]
# Hebrew: a name, a description, a note and a link's path.
NAME = "\u05de\u05d9\u05d9"
DESCRIPTION = "\u05de\u05d5\u05e0\u05d9\u05ea"
NOTE = "\u05d7\u05e1\u05e8\u05d4"
LINK = "https://example.com/\u05e7\u05d1\u05dc\u05d4"
REMOVE_THEM = "text-direction controls (U+202A to U+202E, U+2066 to U+2069)"


@pytest.fixture
def browser(client) -> ConsoleBrowser:
    return ConsoleBrowser(client)


def _message(response) -> str:
    return str(response.json()["detail"][0]["msg"])


# --- The API ---------------------------------------------------------------------------


async def test_a_spoofed_link_is_refused_by_the_api_saying_what_to_remove(client, factory):
    employee = await factory.employee()

    response = await client.post(
        "/api/tickets",
        json={
            "spent_on": "2026-01-05",
            "amount": "5.00",
            "description": "Taxi",
            "links": [SPOOFED_LINK],
        },
        headers=employee.headers,
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", "links"]
    assert "Links must not contain " + REMOVE_THEM in _message(response)
    listed = await client.get("/api/tickets", headers=employee.headers)
    assert listed.json()["total"] == 0


async def _register_as(client, username):
    return await client.post(
        "/api/auth/register",
        json={"email": "mei@example.com", "password": "a long passphrase", "username": username},
    )


@pytest.mark.parametrize("control", CONTROLS)
async def test_a_username_with_any_text_direction_control_is_refused(client, control):
    response = await _register_as(client, f"Mei{control}Admin")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "username"]
    assert _message(response).startswith("The name must not contain " + REMOVE_THEM)
    assert "remove them" in _message(response)


@pytest.mark.parametrize("separator", ["\u2028", "\u2029"])
async def test_a_line_separator_in_a_one_line_field_is_refused(client, separator):
    response = await _register_as(client, f"Mei{separator}Admin")

    assert response.status_code == 422
    assert _message(response) == (
        "The name must be on one line: remove the line or paragraph separator (U+2028, U+2029)"
    )


async def test_a_payment_reference_with_an_override_is_refused(client, factory):
    employee, employer = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(employee)
    await client.post(f"/api/tickets/{ticket['id']}/approve", headers=employer.headers)

    response = await client.post(
        "/api/payments",
        json={"ticket_ids": [ticket["id"]], "reference": "\u202eREF"},
        headers=employer.headers,
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "reference"]
    assert _message(response).startswith("The reference must not contain " + REMOVE_THEM)
    payments = await client.get("/api/payments", headers=employer.headers)
    assert payments.json()["total"] == 0


async def test_a_comment_with_an_isolate_is_refused_and_marks_are_kept(client, factory):
    employee = await factory.employee()
    ticket = await factory.ticket(employee)
    url = f"/api/tickets/{ticket['id']}/comments"

    refused = await client.post(
        url, json={"body": "\u2067\u05e9\u05dc\u05d5\u05dd\u2069 ok"}, headers=employee.headers
    )
    # Right-to-left text needs no control; a right-to-left mark is still fine.
    kept = await client.post(
        url, json={"body": "\u05e9\u05dc\u05d5\u05dd\u200f ok"}, headers=employee.headers
    )

    assert refused.status_code == 422
    assert _message(refused).startswith("The comment must not contain " + REMOVE_THEM)
    assert kept.status_code == 201, kept.text
    assert kept.json()["body"] == "\u05e9\u05dc\u05d5\u05dd\u200f ok"


async def test_line_separators_in_a_description_become_line_breaks(client, factory):
    employee = await factory.employee()

    ticket = await factory.ticket(employee, description="Taxi\u2028to the client\u2029and back")

    assert ticket["description"] == "Taxi\nto the client\nand back"


async def test_a_category_name_with_an_embedding_is_refused(client, factory):
    employer = await factory.employer()

    response = await client.post(
        "/api/categories", json={"name": "\u202bTravel"}, headers=employer.headers
    )

    assert response.status_code == 422
    assert _message(response).startswith("The name must not contain " + REMOVE_THEM)


# --- The pages -------------------------------------------------------------------------


async def test_the_page_form_refuses_a_spoofed_link_next_to_the_field(client, factory):
    employee = await factory.employee()
    await log_in(client, employee)

    response = await submit_form(
        client,
        "/tickets",
        {"spent_on": "2026-01-05", "amount": "5.00", "description": "Taxi", "links": SPOOFED_LINK},
    )

    assert response.status_code == 400
    assert "Links must not contain " + REMOVE_THEM in response.text
    listed = await client.get("/api/tickets", headers=employee.headers)
    assert listed.json()["total"] == 0


async def test_the_register_page_refuses_a_spoofed_username(client):
    first = await submit_form(client, "/", {"email": "mei@example.com", "password": "a long pw!"})
    response = await client.post(
        "/register",
        data={
            "username": "Mei\u202eAdmin",
            "role": "employee",
            "password": "a long pw!",
            "csrf_token": csrf_from(first),
        },
    )

    assert response.status_code == 400
    assert "The name must not contain " + REMOVE_THEM in response.text


async def test_the_ticket_page_refuses_a_comment_with_an_override(client, factory):
    employee = await factory.employee()
    ticket = await factory.ticket(employee)
    await log_in(client, employee)

    page = await client.get(f"/tickets/{ticket['id']}")
    response = await client.post(
        f"/tickets/{ticket['id']}/comments",
        data={"body": "paid \u202e01.99\u202c", "csrf_token": csrf_from(page)},
    )

    assert response.status_code == 400
    assert "The comment must not contain " + REMOVE_THEM in response.text
    comments = await client.get(f"/api/tickets/{ticket['id']}/comments", headers=employee.headers)
    assert comments.json() == []


# --- The console -----------------------------------------------------------------------


async def test_the_console_refuses_a_payment_reference_with_an_override(browser, factory, client):
    employee, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(employee)
    await client.post(f"/api/tickets/{ticket['id']}/approve", headers=boss.headers)
    await browser.login_as(boss)

    refused = await browser.confirm("tickets", "pay", [ticket["id"]], reference="\u202eREF")

    assert refused.status_code == 400
    assert "The reference must not contain " + REMOVE_THEM in refused.text
    payments = await client.get("/api/payments", headers=boss.headers)
    assert payments.json()["total"] == 0


async def test_the_console_refuses_a_comment_and_a_denial_note_with_an_isolate(
    browser, factory, client
):
    employee, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(employee)
    await browser.login_as(boss)
    page = await browser.client.get(f"/admin/tickets/details/{ticket['id']}")

    commented = await browser.client.post(
        f"/admin/tickets/{ticket['id']}/comments",
        data={"body": "\u2066fine\u2069", "csrf_token": csrf_from(page)},
    )
    after = await browser.client.get(commented.headers["location"].split("#")[0])
    denied = await browser.confirm("tickets", "deny", [ticket["id"]], note="no \u2067receipt")

    assert "The comment must not contain " + REMOVE_THEM in after.text
    assert denied.status_code == 400
    assert "The note must not contain " + REMOVE_THEM in denied.text
    still = await client.get(f"/api/tickets/{ticket['id']}", headers=employee.headers)
    assert still.json()["status"] == "pending"
    comments = await client.get(f"/api/tickets/{ticket['id']}/comments", headers=employee.headers)
    assert comments.json() == []


# --- What the pages show ---------------------------------------------------------------


async def test_pages_isolate_what_people_typed(client, browser, factory):
    """Right-to-left text stored legitimately (Hebrew names, descriptions, notes)
    is shown in its own direction without pulling the words beside it along."""
    employee = await factory.employee(username=NAME)
    boss = await factory.employer()
    ticket = await factory.ticket(employee, description=DESCRIPTION, links=[LINK])
    await client.post(
        f"/api/tickets/{ticket['id']}/deny", json={"note": NOTE}, headers=boss.headers
    )
    await log_in(client, employee)

    mine = (await client.get("/tickets")).text
    console = browser.client
    await browser.login_as(boss)
    details = (await console.get(f"/admin/tickets/details/{ticket['id']}")).text
    listed = (await console.get("/admin/tickets/list")).text
    employees = (await console.get("/admin/employees/list")).text

    name = f"<bdi>{NAME}</bdi>"
    assert f'<div class="description" dir="auto">{DESCRIPTION}</div>' in mine
    assert f"<bdi>{LINK}</bdi>" in mine
    assert f'class="decision-note" dir="auto">{NOTE}<' in mine
    assert name in mine  # the name in the page's header
    assert name in details and name in listed and name in employees
    assert re.search(f'dir="auto"[^>]*>{DESCRIPTION}<', details)
    assert re.search(f'dir="auto"[^>]*>{DESCRIPTION}<', listed)
