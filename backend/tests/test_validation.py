"""Text rules: a description, a note or a name made only of characters nobody can see is
refused, saying so; the same characters inside visible text are kept."""

import pytest

from tests.support.forms import csrf_from, submit_form

INVISIBLE_ONLY = [
    "\u202e",  # right-to-left override
    "\u200b",  # zero-width space
    "\ufeff",  # byte order mark
    "\u200e\u200f",  # left-to-right and right-to-left marks
    " \u2066\u2069 ",  # isolates among spaces
    "\u00a0\u200d\u2060\u00a0",  # no-break spaces, zero-width joiner, word joiner
    "\u3164",  # Hangul filler, drawn blank
    "\u200b\n\u200c",  # over two lines
]


@pytest.mark.parametrize("text", INVISIBLE_ONLY)
async def test_a_description_of_invisible_characters_is_refused_saying_so(client, factory, text):
    employee = await factory.employee()

    response = await client.post(
        "/api/tickets",
        json={"spent_on": "2026-01-05", "amount": "5.00", "description": text},
        headers=employee.headers,
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == (
        "The description must contain a visible character, not only invisible or "
        "text-direction characters"
    )


@pytest.mark.parametrize("text", INVISIBLE_ONLY)
async def test_a_username_of_invisible_characters_is_refused_saying_so(client, text):
    response = await client.post(
        "/api/auth/register",
        json={
            "email": "mei@example.com",
            "password": "a long passphrase",
            "username": text.replace("\n", " "),
            "role": "employee",
        },
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == (
        "The name must contain a visible character, not only invisible or "
        "text-direction characters"
    )


@pytest.mark.parametrize("note", ["\u202e", " \u200b "])
async def test_a_denial_note_of_invisible_characters_is_refused_saying_so(client, factory, note):
    employee, employer = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(employee)

    response = await client.post(
        f"/api/tickets/{ticket['id']}/deny", json={"note": note}, headers=employer.headers
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == (
        "The note must contain a visible character, not only invisible or "
        "text-direction characters"
    )
    still = await client.get(f"/api/tickets/{ticket['id']}", headers=employee.headers)
    assert still.json()["status"] == "pending"


async def test_a_blank_note_is_still_no_note(client, factory):
    # Guards the test above: a note is optional, and spaces alone mean none.
    employee, employer = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(employee)

    response = await client.post(
        f"/api/tickets/{ticket['id']}/deny", json={"note": "  "}, headers=employer.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["decision_note"] in (None, "")


async def test_an_edit_to_invisible_characters_is_refused(client, factory):
    employee = await factory.employee()
    ticket = await factory.ticket(employee)

    response = await client.patch(
        f"/api/tickets/{ticket['id']}", json={"description": "\u202e"}, headers=employee.headers
    )

    assert response.status_code == 422
    assert "visible character" in response.json()["detail"][0]["msg"]


async def test_the_page_form_says_so_next_to_the_name(client):
    first = await submit_form(client, "/", {"email": "mei@example.com", "password": "a long pw!"})
    response = await client.post(
        "/register",
        data={
            "username": "\u200b\u202e",
            "role": "employee",
            "password": "a long pw!",
            "csrf_token": csrf_from(first),
        },
    )

    assert response.status_code == 400
    assert "The name must contain a visible character" in response.text


@pytest.mark.parametrize(
    "text", ["\u05e9\u05dc\u05d5\u05dd \u200fTaxi", "Cafe\u0301", "\u200bTaxi", "\U0001f695"]
)
async def test_visible_text_with_invisible_characters_inside_is_kept(client, factory, text):
    employee = await factory.employee()

    response = await client.post(
        "/api/tickets",
        json={"spent_on": "2026-01-05", "amount": "5.00", "description": text},
        headers=employee.headers,
    )

    assert response.status_code == 201, response.text
    assert response.json()["description"] == text
