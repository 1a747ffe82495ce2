"""An internationalised address is stored in one normalised form (email-validator's:
the domain in Unicode, lower case), so logging in with either form of it, Unicode or
punycode, at any door, finds the account."""

from tests.support.console import ConsoleBrowser
from tests.support.factories import PASSWORD

STORED = "\u00fc@ex\u00e4mple.com"  # ü@exämple.com
PUNYCODE = "\u00fc@xn--exmple-cua.com"
CAPITALS = "\u00dc@EX\u00c4MPLE.com"


async def test_the_address_is_stored_normalised_however_it_was_typed(client, factory):
    typed_in_punycode = await factory.employee(email=PUNYCODE)
    again = await client.post(
        "/api/auth/register",
        json={"email": CAPITALS, "password": PASSWORD, "username": "Twin"},
    )

    assert typed_in_punycode.email == STORED
    assert again.status_code == 409


async def test_either_form_logs_in_through_the_api_and_the_token_form(client, factory):
    await factory.employee(email=STORED)

    logins = [
        await client.post("/api/auth/login", json={"email": typed, "password": PASSWORD})
        for typed in (STORED, PUNYCODE, CAPITALS)
    ]
    token = await client.post("/api/auth/token", data={"username": PUNYCODE, "password": PASSWORD})

    assert [response.status_code for response in logins] == [200, 200, 200]
    assert {response.json()["user"]["email"] for response in logins} == {STORED}
    assert token.status_code == 200, token.text


async def test_either_form_logs_in_to_the_console(client, factory):
    await factory.employer(email=CAPITALS)

    response = await ConsoleBrowser(client).login(PUNYCODE)

    assert response.status_code == 303, response.text
