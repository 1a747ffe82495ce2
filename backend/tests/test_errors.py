"""Errors as the API answers them: 422 messages read as our validators wrote them, and
text no rule refused that cannot be stored or encoded is a 400 that says so, not a 500."""

import pytest

from tests.support.factories import PASSWORD


async def test_a_422_message_reads_as_the_validator_wrote_it(client, factory):
    employee = await factory.employee()

    response = await client.post(
        "/api/tickets",
        json={"spent_on": "2026-01-05", "amount": "0", "description": "Taxi"},
        headers=employee.headers,
    )

    assert response.status_code == 422
    assert [error["msg"] for error in response.json()["detail"]] == [
        "Amount must be greater than 0"
    ]


def _multipart(charset: str, fields: dict[str, bytes]) -> tuple[bytes, dict[str, str]]:
    boundary = "fuzzboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value
        + b"\r\n"
        for name, value in fields.items()
    ]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}; charset={charset}"}


@pytest.mark.parametrize("field", ["username", "password"])
async def test_a_token_form_field_that_is_not_unicode_is_a_400_not_a_500(client, field):
    # The form's declared charset decides how its bytes become text; this one lets a
    # client send half of a surrogate pair, which no JSON answer can carry back.
    fields = {"username": b"mei@example.com", "password": PASSWORD.encode()}
    fields[field] = b"x\\udfffx"
    body, headers = _multipart("unicode_escape", fields)

    response = await client.post("/api/auth/token", content=body, headers=headers)

    assert response.status_code == 400
    assert "Text must be valid Unicode" in response.json()["detail"]


async def test_a_nul_in_the_token_forms_email_is_a_400_not_a_500(client):
    response = await client.post(
        "/api/auth/token", data={"username": "mei\x00@example.com", "password": PASSWORD}
    )

    assert response.status_code == 400
    assert response.json()["detail"] == "Text cannot contain NUL characters"
