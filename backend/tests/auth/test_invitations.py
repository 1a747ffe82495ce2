"""EMPLOYER_SIGNUP: who may register as an employer, and invitations."""

import asyncio
import re
from datetime import timedelta

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select, update

from contoso.config import EmployerSignup
from contoso.main import create_app
from contoso.models import Invitation
from tests.support.factories import PASSWORD
from tests.support.forms import csrf_from


@pytest.fixture
async def signup(settings, app, request):
    """A client of an app with EMPLOYER_SIGNUP as the test's parameter (same database)."""
    policy = EmployerSignup(request.param)
    application = create_app(settings.model_copy(update={"employer_signup": policy}))
    transport = ASGITransport(app=application)
    async with AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
    await application.state.database.dispose()


def _employer(email: str, **fields: str) -> dict[str, str]:
    account = {"email": email, "username": "New Boss", "password": PASSWORD, "role": "employer"}
    return account | fields


async def _invite(client: AsyncClient, boss, email: str) -> dict:
    response = await client.post("/api/invitations", json={"email": email}, headers=boss.headers)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("signup", ["invite"], indirect=True)
async def test_invite_mode_asks_employers_for_a_code_and_not_employees(signup, factory):
    refused = await signup.post("/api/auth/register", json=_employer("carol@example.com"))
    employee = await signup.post(
        "/api/auth/register",
        json={"email": "dan@example.com", "username": "Dan", "password": PASSWORD},
    )

    assert refused.status_code == 403
    assert "needs an invitation code" in refused.json()["detail"]
    assert "carol@example.com" in refused.json()["detail"]
    assert employee.status_code == 201
    assert employee.json()["user"]["role"] == "employee"


@pytest.mark.parametrize("signup", ["invite"], indirect=True)
async def test_an_invited_email_registers_as_employer_with_its_code(signup, factory):
    boss = await factory.employer()
    invitation = await _invite(signup, boss, "Carol@Example.com")

    # Typed by a person: lower case, spaces instead of dashes.
    typed = invitation["code"].lower().replace("-", " ")
    response = await signup.post(
        "/api/auth/register", json=_employer("carol@example.com", invitation_code=typed)
    )

    assert invitation["email"] == "carol@example.com"
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", invitation["code"])
    assert response.status_code == 201, response.text
    carol = response.json()
    assert carol["user"]["role"] == "employer"
    tickets = await signup.get(
        "/api/tickets", headers={"Authorization": f"Bearer {carol['access_token']}"}
    )
    assert tickets.status_code == 200  # an employer's view: every visible ticket


@pytest.mark.parametrize("signup", ["invite"], indirect=True)
async def test_a_code_works_only_for_its_own_email_and_not_after_expiry(signup, factory, app):
    boss = await factory.employer()
    for_carol = await _invite(signup, boss, "carol@example.com")
    for_erin = await _invite(signup, boss, "erin@example.com")
    async with app.state.database.sessionmaker.begin() as session:
        await session.execute(
            update(Invitation)
            .where(Invitation.email == "erin@example.com")
            .values(expires_at=func.now() - timedelta(seconds=1))
        )

    mallory = await signup.post(
        "/api/auth/register",
        json=_employer("mallory@example.com", invitation_code=for_carol["code"]),
    )
    late = await signup.post(
        "/api/auth/register", json=_employer("erin@example.com", invitation_code=for_erin["code"])
    )

    for response in (mallory, late):
        assert response.status_code == 403
        assert "not valid for" in response.json()["detail"]
        assert "ask an employer for a new one" in response.json()["detail"]


@pytest.mark.parametrize("signup", ["invite"], indirect=True)
async def test_a_code_is_used_once_even_by_concurrent_sign_ups(signup, factory, app):
    boss = await factory.employer()
    invitation = await _invite(signup, boss, "carol@example.com")
    body = _employer("carol@example.com", invitation_code=invitation["code"])

    responses = await asyncio.gather(
        *(signup.post("/api/auth/register", json=body) for _ in range(5))
    )

    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1
    assert set(codes) <= {201, 403, 409}
    carol = next(r.json()["user"] for r in responses if r.status_code == 201)
    async with app.state.database.sessionmaker() as session:
        used_by = (await session.scalars(select(Invitation.used_by_id))).all()
    assert used_by == [carol["id"]]


@pytest.mark.parametrize("signup", ["invite"], indirect=True)
async def test_only_employers_invite_and_not_people_who_have_an_account(signup, factory):
    boss, alice = await factory.employer(), await factory.employee()

    by_employee = await signup.post(
        "/api/invitations", json={"email": "x@example.com"}, headers=alice.headers
    )
    existing = await signup.post(
        "/api/invitations", json={"email": alice.email}, headers=boss.headers
    )
    anonymous = await signup.post("/api/invitations", json={"email": "x@example.com"})

    assert by_employee.status_code == 403
    assert by_employee.json()["detail"] == "Only employers can invite people."
    assert existing.status_code == 409
    assert "already has an account" in existing.json()["detail"]
    assert anonymous.status_code == 401


@pytest.mark.parametrize("signup", ["closed"], indirect=True)
async def test_closed_mode_refuses_employer_sign_up_even_with_a_code(signup, factory):
    boss = await factory.employer()
    invitation = await _invite(signup, boss, "carol@example.com")

    response = await signup.post(
        "/api/auth/register",
        json=_employer("carol@example.com", invitation_code=invitation["code"]),
    )
    page, _ = await _register_on_the_page(signup, "dan@example.com")

    assert response.status_code == 403
    assert "cannot be created by signing up here" in response.json()["detail"]
    assert 'value="employer"' not in page.text
    assert "created by whoever runs this service" in page.text


async def _register_on_the_page(client: AsyncClient, email: str, **fields: str):
    start = await client.get("/")
    step_two = await client.post(
        "/", data={"email": email, "password": PASSWORD, "csrf_token": csrf_from(start)}
    )
    form = {"username": "Carol", "role": "employer", "password": PASSWORD} | fields
    return step_two, await client.post("/register", data=form | {"csrf_token": csrf_from(step_two)})


@pytest.mark.parametrize("signup", ["invite"], indirect=True)
async def test_the_register_page_asks_for_the_code_and_says_what_is_wrong(signup, factory):
    boss = await factory.employer()
    invitation = await _invite(signup, boss, "carol@example.com")

    step_two, refused = await _register_on_the_page(signup, "carol@example.com")
    _, accepted = await _register_on_the_page(
        signup, "carol@example.com", invitation_code=invitation["code"]
    )

    assert 'name="invitation_code"' in step_two.text
    assert refused.status_code == 403
    assert "needs an invitation code" in refused.text
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/admin/"


@pytest.mark.parametrize("signup", ["invite"], indirect=True)
async def test_wrong_codes_sent_at_once_get_no_more_tries_than_a_login(signup, factory, figures):
    # Outside probe, finding 9: 60 wrong codes were 60 answers of 403.
    boss = await factory.employer()
    invitation = await _invite(signup, boss, "carol@example.com")
    guesses = [
        _employer("carol@example.com", invitation_code=f"AAAA-BBBB-{n:04}") for n in range(30)
    ]

    responses = await asyncio.gather(
        *(signup.post("/api/auth/register", json=body) for body in guesses)
    )
    right = await signup.post(
        "/api/auth/register",
        json=_employer("carol@example.com", invitation_code=invitation["code"]),
    )

    codes = [r.status_code for r in responses]
    assert codes.count(403) == 10  # LOGIN_RATE_LIMIT: 10 per 15 minutes
    assert codes.count(429) == 20
    # As with a right password after the limit: the wait is the same for everyone.
    assert right.status_code == 429
    assert int(right.headers["retry-after"]) > 14 * 60
    assert right.json()["detail"].endswith("try again in 15 minutes.")
    figures.add(
        "hardening: 30 wrong invitation codes at once",
        refused_403=codes.count(403),
        refused_429=codes.count(429),
    )


@pytest.mark.parametrize("signup", ["invite"], indirect=True)
async def test_a_right_code_gives_the_slots_of_wrong_ones_back(signup, factory):
    boss = await factory.employer()
    invitation = await _invite(signup, boss, "carol@example.com")
    for n in range(9):
        await signup.post(
            "/api/auth/register",
            json=_employer("carol@example.com", invitation_code=f"AAAA-BBBB-{n:04}"),
        )

    registered = await signup.post(
        "/api/auth/register",
        json=_employer("carol@example.com", invitation_code=invitation["code"]),
    )
    typos = [
        await signup.post(
            "/api/auth/login", json={"email": "carol@example.com", "password": f"typo-{n}"}
        )
        for n in range(10)
    ]

    assert registered.status_code == 201
    assert {r.status_code for r in typos} == {401}


@pytest.mark.parametrize("signup", ["invite"], indirect=True)
async def test_the_register_page_refuses_wrong_codes_past_the_limit(signup, factory):
    boss = await factory.employer()
    await _invite(signup, boss, "carol@example.com")
    step_two, first = await _register_on_the_page(
        signup, "carol@example.com", invitation_code="AAAA-BBBB-0000"
    )
    # The first step (a new email's password) took one of the ten slots, as a login does.
    answers = [first]
    for n in range(1, 10):
        form = {"username": "Carol", "role": "employer", "password": PASSWORD}
        form |= {"invitation_code": f"AAAA-BBBB-{n:04}", "csrf_token": csrf_from(step_two)}
        answers.append(await signup.post("/register", data=form))

    assert [a.status_code for a in answers] == [403] * 9 + [429]
    assert int(answers[-1].headers["retry-after"]) > 14 * 60
    assert "try again in 15 minutes" in answers[-1].text
