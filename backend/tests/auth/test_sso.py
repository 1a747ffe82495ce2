"""Single sign-on against a real OpenID provider (oidc-provider on Node): who gets in on
each door, and every way a callback is refused."""

import re
from urllib.parse import urljoin

import httpx
import pytest
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import select

from contoso.auth.schemas import RegisterRequest
from contoso.auth.service import create_account
from contoso.commands import create_employer
from contoso.config import EmployeeSignup
from contoso.models import Invitation, Role, User
from tests.support.apps import app_with
from tests.support.factories import PASSWORD
from tests.support.forms import csrf_from
from tests.support.identity_provider import IdentityProvider, identity_provider, needs_node
from tests.support.servers import free_port

pytestmark = needs_node

PUBLIC_URL = "http://test"
EMPLOYER_GROUP = "expense-admins"
ACCOUNTS = {
    "ann@example.com": {"email": "ann@example.com", "email_verified": True, "name": "Ann Lee"},
    "boss@example.com": {
        "email": "boss@example.com",
        "email_verified": True,
        "name": "The Boss",
        "groups": [EMPLOYER_GROUP],
    },
    "unverified@example.com": {"email": "unverified@example.com", "email_verified": False},
    # As Entra ID says it: no email_verified, the domain's owner verified.
    "entra@example.com": {"email": "entra@example.com", "xms_edov": True},
    "zoe@elsewhere.org": {"email": "zoe@elsewhere.org", "email_verified": True, "name": "Zoe"},
}
REFRESH = re.compile(r'http-equiv="refresh" content="0;url=([^"]+)"')


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    with identity_provider(log, [f"{PUBLIC_URL}/sso/callback"], ACCOUNTS) as running:
        yield running


@pytest.fixture
async def sso(settings, app, provider):
    """(app, client) with single sign-on through `provider`, employers by group."""
    overrides = provider.settings(PUBLIC_URL) | {"oidc_employer_group": EMPLOYER_GROUP}
    async with app_with(settings, **overrides) as pair:
        yield pair


async def _leave(client: AsyncClient, door: str = "pages", login: str = "/") -> str:
    """Press "Sign in with …" on a door's login page: the provider's address."""
    page = await client.get(login)
    assert "Sign in with Test ID" in page.text
    started = await client.post(
        "/sso", data={"csrf_token": csrf_from(page), "door": door, "next": ""}
    )
    assert started.status_code == 303, started.text
    return started.headers["location"]


async def _at_provider(address: str, account: str) -> str:
    """Sign in at the provider as `account`: the callback address it sends back to."""
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(address)
        while answer.status_code in (302, 303):
            location = urljoin(str(answer.url), answer.headers["location"])
            if location.startswith(PUBLIC_URL):
                return location
            answer = await browser.get(location)
        form = re.search(r'action="([^"]+)"', answer.text)
        assert answer.status_code == 200 and form, answer.text
        answer = await browser.post(urljoin(str(answer.url), form[1]), data={"account": account})
        while answer.status_code in (302, 303):
            location = urljoin(str(answer.url), answer.headers["location"])
            if location.startswith(PUBLIC_URL):
                return location
            answer = await browser.get(location)
    raise AssertionError(f"the provider did not send the browser back: {answer.text}")


async def _sign_in(client: AsyncClient, account: str, door: str = "pages") -> tuple[Response, str]:
    login = "/admin/login" if door == "console" else "/"
    callback = await _at_provider(await _leave(client, door, login), account)
    return await client.get(callback.removeprefix(PUBLIC_URL)), callback


def _destination(response: Response) -> str:
    assert response.status_code == 200, response.text
    found = REFRESH.search(response.text)
    assert found, response.text
    return found[1]


async def _user(app, email: str) -> User | None:
    async with app.state.database.sessionmaker() as session:
        return await session.scalar(select(User).where(User.email == email))


async def test_a_new_person_signs_in_on_the_pages_as_an_employee(sso):
    app, client = sso
    answer, _ = await _sign_in(client, "ann@example.com")

    assert _destination(answer) == "/tickets"
    page = await client.get("/tickets")
    assert page.status_code == 200
    assert "Ann Lee" in page.text
    user = await _user(app, "ann@example.com")
    assert user is not None and user.role is Role.EMPLOYEE and user.username == "Ann Lee"
    # Their password is one nobody knows.
    login = await client.post(
        "/api/auth/login", json={"email": "ann@example.com", "password": PASSWORD}
    )
    assert login.status_code == 401


async def test_the_employer_group_signs_in_at_the_console(sso, factory):
    app, client = sso
    answer, _ = await _sign_in(client, "boss@example.com", door="console")

    assert _destination(answer) == "/admin/"
    console = await client.get("/admin/")
    assert console.status_code == 200
    assert "boss@example.com" in console.text
    user = await _user(app, "boss@example.com")
    assert user is not None and user.role is Role.EMPLOYER


async def test_an_existing_account_is_matched_by_its_email(sso, factory):
    app, client = sso
    existing = await factory.employer(email="ann@example.com", username="Ann the employer")
    answer, _ = await _sign_in(client, "ann@example.com", door="console")

    assert _destination(answer) == "/admin/"
    user = await _user(app, "ann@example.com")
    # The account keeps its role and name: the group makes new accounts only.
    assert user is not None and user.id == existing.id and user.username == "Ann the employer"


async def test_an_employee_is_refused_at_the_console_and_no_account_is_left(sso):
    app, client = sso
    answer, _ = await _sign_in(client, "ann@example.com", door="console")

    assert answer.status_code == 403
    assert "This console is for employers" in answer.text
    assert await _user(app, "ann@example.com") is None
    assert (await client.get("/admin/", follow_redirects=False)).status_code == 302


async def test_a_callback_with_another_state_is_refused(sso):
    app, client = sso
    callback = await _at_provider(await _leave(client), "ann@example.com")
    forged = re.sub(r"state=[^&]+", "state=somebody-elses", callback)
    answer = await client.get(forged.removeprefix(PUBLIC_URL))

    assert answer.status_code == 400
    assert "start again" in answer.text
    assert await _user(app, "ann@example.com") is None


async def test_a_callback_with_a_state_that_is_not_ascii_is_refused(sso):
    app, client = sso
    callback = await _at_provider(await _leave(client), "ann@example.com")
    answer = await client.get(
        re.sub(r"state=[^&]+", "state=%C3%A9t%C3%A9", callback).removeprefix(PUBLIC_URL)
    )

    assert answer.status_code == 400
    assert await _user(app, "ann@example.com") is None


async def test_a_callback_naming_another_issuer_is_refused(sso):
    app, client = sso
    callback = await _at_provider(await _leave(client), "ann@example.com")
    answer = await client.get(
        re.sub(r"iss=[^&]+", "iss=https%3A%2F%2Fevil.example.com", callback).removeprefix(
            PUBLIC_URL
        )
    )

    assert "iss=" in callback
    assert answer.status_code == 400
    assert await _user(app, "ann@example.com") is None


async def test_a_discovery_document_naming_another_issuer_is_refused(
    settings, app, provider, caplog
):
    # The provider's own address written otherwise: its document names another issuer.
    elsewhere = provider.issuer.replace("127.0.0.1", "localhost")
    overrides = provider.settings(PUBLIC_URL) | {"oidc_issuer": elsewhere}
    async with app_with(settings, **overrides) as (_, client):
        page = await client.get("/")
        answer = await client.post("/sso", data={"csrf_token": csrf_from(page), "door": "pages"})

    assert answer.status_code == 502
    assert "The identity provider could not be reached" in answer.text
    assert f"the provider calls itself '{provider.issuer}'" in caplog.text


async def test_a_callback_in_a_browser_that_did_not_start_it_is_refused(sso):
    app, client = sso
    callback = await _at_provider(await _leave(client), "ann@example.com")
    async with AsyncClient(transport=ASGITransport(app=app), base_url=PUBLIC_URL) as stranger:
        answer = await stranger.get(callback.removeprefix(PUBLIC_URL))

    assert answer.status_code == 400
    assert "start again" in answer.text


async def test_a_code_works_once(sso):
    _, client = sso
    first, callback = await _sign_in(client, "ann@example.com")
    assert _destination(first) == "/tickets"
    await client.post("/logout", data={"csrf_token": csrf_from(await client.get("/tickets"))})

    # The same address again: its sign-in is used up.
    again = await client.get(callback.removeprefix(PUBLIC_URL))
    # The old code under a new sign-in's state: the provider refuses it.
    fresh_state = re.search(r"state=([^&]+)", await _leave(client))
    assert fresh_state
    replayed = re.sub(r"state=[^&]+", f"state={fresh_state[1]}", callback)
    answer = await client.get(replayed.removeprefix(PUBLIC_URL))

    assert again.status_code == 400
    assert answer.status_code == 400
    assert "start again" in answer.text
    assert (await client.get("/tickets", follow_redirects=False)).status_code == 303


async def test_an_id_token_for_another_audience_is_refused(sso, provider):
    app, client = sso
    provider.forge_audience("another-app")
    try:
        answer, _ = await _sign_in(client, "ann@example.com")
    finally:
        provider.forge_audience(None)

    assert answer.status_code == 400
    assert "start again" in answer.text
    assert await _user(app, "ann@example.com") is None


async def test_an_unverified_email_is_refused(sso):
    app, client = sso
    answer, _ = await _sign_in(client, "unverified@example.com")

    assert answer.status_code == 403
    assert "has not verified unverified@example.com" in answer.text
    assert await _user(app, "unverified@example.com") is None


async def test_an_address_verified_as_entra_id_says_it_signs_in(sso):
    app, client = sso
    answer, _ = await _sign_in(client, "entra@example.com")

    assert _destination(answer) == "/tickets"
    assert await _user(app, "entra@example.com") is not None


async def test_a_suspended_user_is_refused_with_the_suspension_message(sso, factory):
    _, client = sso
    boss = await factory.employer()
    ann = await factory.employee(email="ann@example.com")
    suspended = await client.post(f"/api/employees/{ann.id}/suspend", headers=boss.headers)
    assert suspended.status_code == 200, suspended.text

    answer, _ = await _sign_in(client, "ann@example.com")

    assert answer.status_code == 403
    assert "This account is suspended" in answer.text


@pytest.fixture
async def invite_only(settings, app, provider):
    overrides = provider.settings(PUBLIC_URL) | {"employee_signup": EmployeeSignup.INVITE}
    async with app_with(settings, **overrides) as pair:
        yield pair


async def test_under_invite_only_an_invitation_lets_a_new_person_in(invite_only, factory):
    app, client = invite_only
    boss = await factory.employer()
    invited = await client.post(
        "/api/invitations", json={"email": "ann@example.com"}, headers=boss.headers
    )
    assert invited.status_code == 201, invited.text

    uninvited, _ = await _sign_in(client, "zoe@elsewhere.org")
    answer, _ = await _sign_in(client, "ann@example.com")

    assert uninvited.status_code == 403
    assert "needs an invitation" in uninvited.text
    assert await _user(app, "zoe@elsewhere.org") is None
    # The invitation is an employer's (its default role), and now used.
    assert _destination(answer) == "/admin/"
    async with app.state.database.sessionmaker() as session:
        invitation = await session.scalar(select(Invitation))
    user = await _user(app, "ann@example.com")
    assert user is not None and invitation is not None
    assert invitation.used_by_id == user.id and user.role is Role.EMPLOYER


@pytest.fixture
async def sso_only(settings, app, provider):
    overrides = provider.settings(PUBLIC_URL) | {"sso_only": True}
    async with app_with(settings, **overrides) as pair:
        yield pair


async def test_sso_only_leaves_passwords_to_the_operators_employers(sso_only, factory):
    app, client = sso_only
    employee = await _register_before_sso_only(app, "ann@example.com")
    operator = await _operator_employer(app, "root@example.com")

    page = await client.get("/")
    answer, _ = await _sign_in(client, "ann@example.com")
    refused = await client.post("/api/auth/login", json={"email": employee, "password": PASSWORD})
    registered = await client.post(
        "/api/auth/register",
        json={"email": "new@example.com", "password": PASSWORD, "username": "New"},
    )
    console = await client.post(
        "/admin/login",
        data={
            "username": operator,
            "password": PASSWORD,
            "csrf_token": csrf_from(await client.get("/admin/login")),
        },
    )

    assert 'name="password"' not in page.text and "Sign in with Test ID" in page.text
    assert refused.status_code == 403
    assert "signs in with Test ID" in refused.json()["detail"]
    assert registered.status_code == 403
    assert console.status_code == 303 and console.headers["location"].endswith("/admin/")
    assert _destination(answer) == "/tickets"


async def _register_before_sso_only(app, email: str) -> str:
    async with app.state.database.sessionmaker.begin() as session:
        await create_account(
            session,
            app.state.security.hasher,
            RegisterRequest(email=email, username="Ann", password=PASSWORD),
        )
    return email


async def _operator_employer(app, email: str) -> str:
    message = await create_employer(app.state.settings, email, None, PASSWORD)
    assert "created" in message, message
    return email


async def test_an_unreachable_provider_is_said_so(settings, app):
    nobody = IdentityProvider(f"http://127.0.0.1:{free_port()}")
    async with app_with(settings, **nobody.settings(PUBLIC_URL)) as (_, client):
        page = await client.get("/")
        answer = await client.post("/sso", data={"csrf_token": csrf_from(page), "door": "pages"})

    assert answer.status_code == 502
    assert "The identity provider could not be reached" in answer.text


async def test_leaving_for_the_provider_needs_the_pages_csrf_token(sso):
    _, client = sso
    await client.get("/")
    answer = await client.post("/sso", data={"door": "pages"}, follow_redirects=False)

    assert answer.status_code == 403
    assert "contoso_sso" not in answer.headers.get("set-cookie", "")
