"""The console's invitations: inviting a list of people at once, the invitations' states,
resending and revoking."""

import re
from datetime import timedelta

from markupsafe import escape
from sqlalchemy import func, select, update

from contoso.models import Invitation
from tests.support.factories import PASSWORD
from tests.support.forms import csrf_from
from tests.support.invitations import emailed_code, invitation_emails

RESULT = re.compile(
    r'<tr class="invite-result">\s*<td><bdi>(.*?)</bdi></td>\s*'
    r'<td><span class="badge [^"]+ invite-outcome">(.*?)</span></td>',
    re.S,
)
STATE = re.compile(r'<span class="badge bg-\w+-lt invitation-state">(\w+)</span>')


async def _invite(client, data: dict, files: dict | None = None):
    form = await client.get("/admin/invitations/new")
    assert form.status_code == 200, form.text
    return await client.post(
        "/admin/invitations/new", data=data | {"csrf_token": csrf_from(form)}, files=files
    )


def _results(page) -> list[tuple[str, str]]:
    """(address as shown, outcome) for each row of the page's results."""
    return [(address, outcome) for address, outcome in RESULT.findall(page.text)]


async def _register(client, email: str, code: str, **fields):
    body = {"email": email, "username": "Lee", "password": PASSWORD, "invitation_code": code}
    return await client.post("/api/auth/register", json=body | fields)


async def test_a_pasted_list_invites_each_new_address_and_says_what_happened_to_the_rest(
    browser, factory, client, app
):
    boss = await factory.employer()
    alice = await factory.employee(email="alice@example.com")
    await client.post(
        "/api/invitations",
        json={"email": "kim@example.com", "role": "employee"},
        headers=boss.headers,
    )
    await browser.login_as(boss)
    formula = '=HYPERLINK("https://evil.example")'
    pasted = (
        f"lee@example.com, Mei@Example.com\n  not-an-email \n{formula}\n"
        f"{alice.email}; kim@example.com\nlee@example.com\n"
    )

    page = await _invite(client, {"addresses": pasted, "role": "employee"})

    assert page.status_code == 200, page.text
    assert _results(page) == [
        ("lee@example.com", "invited"),
        ("Mei@Example.com", "invited"),
        ("not-an-email", "invalid"),
        (escape(formula), "invalid"),
        ("alice@example.com", "already registered"),
        ("kim@example.com", "already invited (resend instead)"),
    ]
    assert "Invited 2 of 6 addresses" in page.text
    assert formula not in page.text  # shown escaped, never as markup
    emailed = [(to, code) for to, _, code in await invitation_emails(app)]
    assert [to for to, _ in emailed] == ["kim@example.com", "lee@example.com", "mei@example.com"]
    # Each email's link registers its address as an employee.
    mei = await _register(client, "mei@example.com", emailed[2][1])
    assert mei.status_code == 201, mei.text
    assert mei.json()["user"]["role"] == "employee"


async def test_a_csv_file_invites_its_column_as_employers(browser, factory, client, app):
    boss = await factory.employer()
    await browser.login_as(boss)
    csv = (
        "\ufeffEmail\r\n"
        "ana@example.com\r\n"
        "\"=cmd|' /C calc'!A0\"\r\n"
        "<script>alert(1)</script>@example.com\r\n"
        "bo@example.com,ignored second column\r\n"
    ).encode()

    page = await _invite(
        client,
        {"addresses": "", "role": "employer"},
        files={"addresses_file": ("people.csv", csv, "text/csv")},
    )

    assert _results(page) == [
        ("ana@example.com", "invited"),
        (escape("=cmd|' /C calc'!A0"), "invalid"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;@example.com", "invalid"),
        ("bo@example.com", "invited"),
    ]
    assert "<script>alert(1)" not in page.text
    ana = await _register(client, "ana@example.com", await emailed_code(app, "ana@example.com"))
    assert ana.json()["user"]["role"] == "employer"


async def test_a_file_that_is_no_utf8_text_or_an_empty_form_is_refused_with_the_reason(
    browser, factory, client
):
    await browser.login_as(await factory.employer())

    latin1 = await _invite(
        client,
        {"addresses": "", "role": "employee"},
        files={"addresses_file": ("people.csv", "zoë@example.com".encode("latin-1"), "text/csv")},
    )
    empty = await _invite(client, {"addresses": " , \n", "role": "employee"})

    assert latin1.status_code == 422
    assert "save it as &#34;CSV UTF-8&#34;" in latin1.text
    assert empty.status_code == 422
    assert "Enter at least one email address" in empty.text


async def test_the_list_shows_pending_used_expired_and_revoked_invitations(
    browser, factory, client, app
):
    boss = await factory.employer()
    for email in ("p@example.com", "u@example.com", "e@example.com", "r@example.com"):
        answer = await client.post(
            "/api/invitations", json={"email": email, "role": "employee"}, headers=boss.headers
        )
        assert answer.status_code == 201
    await _register(client, "u@example.com", await emailed_code(app, "u@example.com"))
    async with app.state.database.sessionmaker.begin() as session:
        await session.execute(
            update(Invitation)
            .where(Invitation.email == "e@example.com")
            .values(expires_at=func.now() - timedelta(minutes=1))
        )
        revoked = await session.scalar(
            select(Invitation.id).where(Invitation.email == "r@example.com")
        )
    await browser.login_as(boss)
    await browser.confirm("invitations", "revoke", [revoked])

    page = await client.get("/admin/invitations/list")

    # Newest first.
    assert STATE.findall(page.text) == ["Revoked", "Expired", "Used", "Pending"]


async def test_resending_emails_a_new_code_and_the_old_one_stops_working(
    browser, factory, client, app
):
    boss = await factory.employer()
    first = await client.post(
        "/api/invitations",
        json={"email": "lee@example.com", "role": "employee"},
        headers=boss.headers,
    )
    old_code = first.json()["code"]
    async with app.state.database.sessionmaker.begin() as session:
        # Expired: a resend starts its week again.
        invitation = await session.scalar(
            update(Invitation)
            .values(expires_at=func.now() - timedelta(minutes=1))
            .returning(Invitation.id)
        )
    await browser.login_as(boss)

    confirmation = await client.get(
        "/admin/invitations/action/resend", params={"pks": str(invitation)}
    )
    still_old = await emailed_code(app, "lee@example.com")
    done = await browser.confirm("invitations", "resend", [invitation])
    listed = await client.get(done.headers["location"])
    new_code = await emailed_code(app, "lee@example.com")
    with_old = await _register(client, "lee@example.com", old_code)
    with_new = await _register(client, "lee@example.com", new_code)

    # The confirmation page asks, and changes nothing (a GET never does).
    assert "Resend 1 invitation?" in confirmation.text
    assert still_old == old_code
    assert done.status_code == 303
    assert "Resent 1 invitation with new codes; their old codes no longer work." in listed.text
    assert new_code != old_code
    assert len(await invitation_emails(app)) == 2
    assert with_old.status_code == 403
    assert with_new.status_code == 201, with_new.text


async def test_revoking_stops_the_code_and_lets_the_address_be_invited_again(
    browser, factory, client, app
):
    boss = await factory.employer()
    code = (
        await client.post(
            "/api/invitations",
            json={"email": "lee@example.com", "role": "employee"},
            headers=boss.headers,
        )
    ).json()["code"]
    async with app.state.database.sessionmaker() as session:
        invitation = await session.scalar(select(Invitation.id))
    await browser.login_as(boss)

    done = await browser.confirm("invitations", "revoke", [invitation])
    again = await browser.confirm("invitations", "revoke", [invitation])
    listed = (await client.get(again.headers["location"])).text
    refused = await _register(client, "lee@example.com", code)
    reinvited = await _invite(client, {"addresses": "lee@example.com", "role": "employee"})

    assert done.status_code == again.status_code == 303
    assert "Revoked 0 invitations; 1 skipped: 1 already revoked." in listed
    assert refused.status_code == 403
    assert _results(reinvited) == [("lee@example.com", "invited")]
