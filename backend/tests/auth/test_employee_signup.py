"""EMPLOYEE_SIGNUP: who may register as an employee, with and without an invitation, on
the API and the pages."""

import asyncio
from datetime import timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select, update

from contoso.config import EmployeeSignup
from contoso.models import Invitation
from tests.support.apps import app_with
from tests.support.factories import PASSWORD, Account
from tests.support.forms import csrf_from
from tests.support.invitations import emailed_code

DOMAINS = ["example.com"]


@pytest.fixture
async def signup(settings, app, request):
    """(app, client) with EMPLOYEE_SIGNUP as the test's parameter (same database);
    `domain` allows example.com."""
    mode = EmployeeSignup(request.param)
    domains = DOMAINS if mode is EmployeeSignup.DOMAIN else []
    async with app_with(settings, employee_signup=mode, allowed_email_domains=domains) as pair:
        yield pair


def _person(email: str, **fields: str) -> dict[str, str]:
    return {"email": email, "username": "Mei", "password": PASSWORD} | fields


async def _invite(client: AsyncClient, boss: Account, email: str, role: str = "employee") -> dict:
    response = await client.post(
        "/api/invitations", json={"email": email, "role": role}, headers=boss.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _register(client: AsyncClient, **body: str):
    return await client.post("/api/auth/register", json=body)


@pytest.mark.parametrize("signup", ["open"], indirect=True)
async def test_open_mode_lets_anyone_register_but_still_checks_a_code(signup, factory):
    _, client = signup
    boss = await factory.employer()
    invited = await _invite(client, boss, "lee@example.com")

    anyone = await _register(client, **_person("anyone@elsewhere.org"))
    wrong = await _register(
        client, **_person("kim@elsewhere.org", invitation_code="AAAA-BBBB-CCCC")
    )
    someone_elses = await _register(
        client, **_person("kim@elsewhere.org", invitation_code=invited["code"])
    )
    right = await _register(client, **_person("lee@example.com", invitation_code=invited["code"]))

    assert anyone.status_code == 201
    for refused in (wrong, someone_elses):
        assert refused.status_code == 403
        assert "not valid for kim@elsewhere.org" in refused.json()["detail"]
    assert right.status_code == 201, right.text
    assert right.json()["user"]["role"] == "employee"


@pytest.mark.parametrize("signup", ["domain"], indirect=True)
async def test_domain_mode_takes_its_domains_and_invited_outsiders(signup, factory):
    _, client = signup
    boss = await factory.employer()
    invited = await _invite(client, boss, "ana@partner.org")

    inside = await _register(client, **_person("Mei@Example.com"))
    subdomain = await _register(client, **_person("kim@paris.example.com"))
    outside = await _register(client, **_person("mallory@example.com.evil.org"))
    with_code = await _register(
        client, **_person("ana@partner.org", invitation_code=invited["code"])
    )

    assert (inside.status_code, subdomain.status_code) == (201, 201)
    assert outside.status_code == 403
    detail = outside.json()["detail"]
    assert "Only @example.com addresses can register here" in detail
    assert "ask an employer to invite mallory@example.com.evil.org" in detail
    assert with_code.status_code == 201, with_code.text


@pytest.mark.parametrize("signup", ["invite"], indirect=True)
async def test_invite_mode_needs_a_code_which_gives_its_role(signup, factory):
    _, client = signup
    boss = await factory.employer()
    employee_code = (await _invite(client, boss, "lee@example.com"))["code"]
    employer_code = (await _invite(client, boss, "ana@example.com", role="employer"))["code"]

    uninvited = await _register(client, **_person("mei@example.com"))
    other_role = await _register(
        client, **_person("lee@example.com", invitation_code=employee_code, role="employer")
    )
    lee = await _register(client, **_person("lee@example.com", invitation_code=employee_code))
    ana = await _register(client, **_person("ana@example.com", invitation_code=employer_code))
    again = await _register(client, **_person("lee@example.com", invitation_code=employee_code))

    assert uninvited.status_code == 403
    assert "Registering needs an invitation" in uninvited.json()["detail"]
    assert "invite mei@example.com" in uninvited.json()["detail"]
    assert other_role.status_code == 403
    assert "This invitation is for an employee account" in other_role.json()["detail"]
    assert lee.status_code == 201 and lee.json()["user"]["role"] == "employee"
    assert ana.status_code == 201 and ana.json()["user"]["role"] == "employer"
    assert again.status_code == 403  # used


@pytest.mark.parametrize("signup", ["invite"], indirect=True)
async def test_an_expired_code_is_refused(signup, factory):
    app, client = signup
    boss = await factory.employer()
    code = (await _invite(client, boss, "lee@example.com"))["code"]
    async with app.state.database.sessionmaker.begin() as session:
        await session.execute(
            update(Invitation).values(expires_at=func.now() - timedelta(seconds=1))
        )

    late = await _register(client, **_person("lee@example.com", invitation_code=code))

    assert late.status_code == 403
    assert "ask an employer for a new one" in late.json()["detail"]


@pytest.mark.parametrize("signup", ["invite"], indirect=True)
async def test_one_employee_code_registers_once_under_concurrent_sign_ups(signup, factory):
    app, client = signup
    boss = await factory.employer()
    code = (await _invite(client, boss, "lee@example.com"))["code"]
    body = _person("lee@example.com", invitation_code=code)

    responses = await asyncio.gather(*(_register(client, **body) for _ in range(6)))

    statuses = [response.status_code for response in responses]
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {201, 403, 409}
    lee = next(r.json()["user"] for r in responses if r.status_code == 201)
    async with app.state.database.sessionmaker() as session:
        used = (await session.execute(select(Invitation.used_by_id, Invitation.role))).all()
    assert [(user_id, role.value) for user_id, role in used] == [(lee["id"], "employee")]


async def _register_on_the_page(client: AsyncClient, email: str, start: str = "/", **fields):
    """Log in / register on the pages: the first step from `start`, then the second
    with `fields` (the role and code as the form has them)."""
    first = await client.get(start)
    carried = {"invitation_code": fields.pop("carried")} if "carried" in fields else {}
    step_two = await client.post(
        "/",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_from(first)} | carried,
    )
    form = {"username": "Lee", "password": PASSWORD} | fields
    done = await client.post("/register", data=form | {"csrf_token": csrf_from(step_two)})
    return first, step_two, done


@pytest.mark.parametrize("signup", ["invite"], indirect=True)
async def test_the_emailed_link_registers_on_the_page_and_others_are_refused(signup, factory):
    app, client = signup
    boss = await factory.employer()
    await _invite(client, boss, "lee@example.com")
    code = await emailed_code(app, "lee@example.com")

    link, step_two, done = await _register_on_the_page(
        client,
        "lee@example.com",
        start=f"/?invitation={code}",
        carried=code,
        invited="1",
        invitation_code=code,
    )
    client.cookies.clear()
    _, plain_step_two, refused = await _register_on_the_page(
        client, "mei@example.com", role="employee"
    )

    assert "You have an invitation" in link.text
    assert f'name="invitation_code" value="{code}"' in link.text
    # The code is filled in, and no role is offered: the invitation's applies.
    assert f'value="{code}"' in step_two.text
    assert 'name="role"' not in step_two.text
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/tickets"
    assert 'name="role"' in plain_step_two.text
    assert refused.status_code == 403
    assert "Registering needs an invitation" in refused.text


@pytest.mark.parametrize("signup", ["domain"], indirect=True)
async def test_the_page_refuses_an_address_outside_the_domains_saying_what_to_do(signup):
    _, client = signup

    _, _, refused = await _register_on_the_page(client, "mallory@elsewhere.org", role="employee")
    client.cookies.clear()
    _, _, inside = await _register_on_the_page(client, "mei@example.com", role="employee")

    assert refused.status_code == 403
    assert 'id="form-error"' in refused.text
    assert "Only @example.com addresses can register here" in refused.text
    assert inside.status_code == 303


@pytest.mark.parametrize("signup", ["open"], indirect=True)
async def test_a_wrong_code_on_the_page_is_refused_in_open_mode(signup):
    _, client = signup

    _, _, refused = await _register_on_the_page(
        client,
        "mei@example.com",
        start="/?invitation=AAAA-BBBB-CCCC",
        carried="AAAA-BBBB-CCCC",
        invited="1",
        invitation_code="AAAA-BBBB-CCCC",
    )

    assert refused.status_code == 403
    assert "not valid for mei@example.com" in refused.text
    assert 'value="AAAA-BBBB-CCCC"' in refused.text  # kept, to correct
