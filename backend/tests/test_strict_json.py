"""JSON bodies: numbers that are not finite and text that is not Unicode are refused with
a 422 that says so, in any field of any operation, instead of a 500."""

import pytest

# Raw JSON, as a client would send it: Python's json module reads all of these.
NOT_FINITE = ["NaN", "Infinity", "-Infinity", "1e309", "-1e309"]
NOT_UNICODE = ['"\\udfff"', '"\\ud800"', '"Taxi \\udc00 home"']
FINITE_NUMBERS = "Numbers must be finite"
VALID_UNICODE = "Text must be valid Unicode"


def _message(response) -> str:
    return " ".join(error["msg"] for error in response.json()["detail"])


@pytest.mark.parametrize("token", NOT_FINITE)
@pytest.mark.parametrize("field", ["email", "password"])
async def test_a_number_that_is_not_finite_is_refused_when_logging_in(client, token, field):
    body = {"email": '"mei@example.com"', "password": '"a long passphrase"'} | {field: token}

    response = await client.post(
        "/api/auth/login",
        content="{" + ", ".join(f'"{k}": {v}' for k, v in body.items()) + "}",
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert FINITE_NUMBERS in _message(response)


@pytest.mark.parametrize("token", NOT_FINITE)
async def test_an_amount_that_is_not_finite_is_refused(client, factory, token):
    employee = await factory.employee()

    response = await client.post(
        "/api/tickets",
        content=f'{{"spent_on": "2026-01-05", "amount": {token}, "description": "Taxi"}}',
        headers={"Content-Type": "application/json"} | employee.headers,
    )

    assert response.status_code == 422
    assert FINITE_NUMBERS in _message(response)
    listing = await client.get("/api/tickets", headers=employee.headers)
    assert listing.json()["total"] == 0


@pytest.mark.parametrize("text", NOT_UNICODE)
@pytest.mark.parametrize("field", ["email", "password", "username"])
async def test_a_lone_surrogate_is_refused_when_registering(client, text, field):
    body = {
        "email": '"mei@example.com"',
        "password": '"a long passphrase"',
        "username": '"Mei"',
        "role": '"employee"',
    } | {field: text}

    response = await client.post(
        "/api/auth/register",
        content="{" + ", ".join(f'"{k}": {v}' for k, v in body.items()) + "}",
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert VALID_UNICODE in _message(response)


@pytest.mark.parametrize(
    "body",
    [
        '{"ticket_ids": [NaN], "decision": "approve"}',
        '{"ticket_ids": [1], "decision": "approve", "note": "\\udfff"}',
        '{"ticket_ids": [1], "decision": Infinity}',
    ],
)
async def test_odd_values_in_a_bulk_decision_are_refused(client, factory, body):
    employer = await factory.employer()

    response = await client.post(
        "/api/tickets/decisions",
        content=body,
        headers={"Content-Type": "application/json"} | employer.headers,
    )

    assert response.status_code == 422
    assert FINITE_NUMBERS in _message(response) or VALID_UNICODE in _message(response)


async def test_a_surrogate_pair_is_ordinary_text(client, factory):
    # Guards the tests above: only a lone half of a pair is refused; emoji are welcome.
    employee = await factory.employee()

    response = await client.post(
        "/api/tickets",
        content='{"spent_on": "2026-01-05", "amount": 12.5, "description": "Taxi \\ud83d\\ude95"}',
        headers={"Content-Type": "application/json"} | employee.headers,
    )

    assert response.status_code == 201, response.text
    assert response.json()["description"] == "Taxi \U0001f695"
    assert response.json()["amount"] == "12.50"


async def test_a_number_too_long_to_read_is_refused_saying_so(client):
    response = await client.post(
        "/api/auth/login",
        content='{"email": ' + "9" * 5000 + ', "password": "x"}',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert _message(response) == "Numbers must have at most 4,300 digits"


async def test_malformed_json_is_still_reported_where_it_breaks(client):
    # Guards the tests above: syntax errors keep FastAPI's own answer, with a position.
    response = await client.post(
        "/api/auth/login", content='{"email": "m",}', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
    assert response.json()["detail"][0]["loc"] == ["body", 14]
