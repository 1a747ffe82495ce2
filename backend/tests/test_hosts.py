"""The Host header a request names never comes back in a link (outside probe, finding 7):
`Host: evil.com` got `Location: http://evil.com/admin/login...`, and pages whose files
were fetched from evil.com. Production answers only its own hosts besides."""

import re

import pytest
from httpx import ASGITransport, AsyncClient

from contoso.main import create_app
from tests.support.console import ConsoleBrowser
from tests.support.forms import csrf_from

EVIL = "evil.com"
# The address of every stylesheet and script a page loads.
ASSETS = re.compile(r'<(?:link|script)\b[^>]*\b(?:href|src)="([^"]*)"')


@pytest.fixture
async def evil(app):
    """A client of the app whose every request says `Host: evil.com`."""
    async with AsyncClient(transport=ASGITransport(app=app), base_url=f"http://{EVIL}") as http:
        yield http


def _location(response) -> str:
    assert response.status_code in (302, 303), response.text
    return response.headers["location"]


async def test_redirects_give_the_path_alone_whatever_the_host(evil, factory):
    boss, alice = await factory.employer(), await factory.employee()
    ticket = await factory.ticket(alice)
    console = ConsoleBrowser(evil)

    to_console_login = await evil.get("/admin/")
    to_pages_login = await evil.get("/tickets")
    logged_in = await console.login(boss.email)
    dashboard = await evil.get("/admin/")
    digest_switched = await evil.post(
        "/admin/settings/emails",
        data={"email_notifications": "off", "csrf_token": csrf_from(dashboard)},
    )
    approved = await console.confirm("tickets", "approve", [ticket["id"]])
    logout_page = await evil.get("/admin/logout")
    logged_out = await evil.post("/admin/logout", data={"csrf_token": csrf_from(logout_page)})

    assert _location(to_console_login) == "/admin/login?next=%2Fadmin%2F"
    assert _location(to_pages_login) == "/?next=%2Ftickets"
    assert _location(logged_in) == "/admin/"
    assert _location(digest_switched) == "/admin/"
    assert _location(approved).startswith("/admin/tickets/list")
    assert _location(logged_out) == "/admin/login"


async def test_the_console_and_the_pages_load_their_files_by_path(evil, factory):
    boss = await factory.employer()
    pages_login = await evil.get("/")
    login = await evil.get("/admin/login")
    await ConsoleBrowser(evil).login_as(boss)
    dashboard = await evil.get("/admin/")

    for page in (login, dashboard, pages_login):
        assert page.status_code == 200
        assert all(url.startswith("/") for url in ASSETS.findall(page.text)), page.text
    assert "/admin/statics/css/main.css" in ASSETS.findall(dashboard.text)
    assert EVIL not in login.text  # the form posts back by path too


def test_an_absolute_redirect_elsewhere_is_left_alone():
    from contoso.hosts import relative_to

    own = ("https", "expenses.example.com")
    assert relative_to(own, "https://expenses.example.com/admin/?a=1") == "/admin/?a=1"
    assert relative_to(own, "https://EXPENSES.example.com") == "/"
    assert relative_to(own, "http://expenses.example.com/") == "http://expenses.example.com/"
    assert relative_to(own, "https://other.example.com/") == "https://other.example.com/"
    assert relative_to(own, "/already/relative") == "/already/relative"


async def test_only_the_own_host_is_answered_but_health_checks_by_address_are(settings):
    # As in production with PUBLIC_URL=https://expenses.example.com and TRUSTED_HOSTS unset.
    app = create_app(settings.model_copy(update={"trusted_hosts": ["expenses.example.com"]}))
    transport = ASGITransport(app=app)
    try:
        async with AsyncClient(transport=transport, base_url="https://expenses.example.com") as ok:
            own = await ok.get("/")
        async with AsyncClient(transport=transport, base_url=f"http://{EVIL}") as bad:
            other = await bad.get("/")
        async with AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as local:
            # The image's HEALTHCHECK and a load balancer ask by address.
            health = [await local.get("/healthz"), await local.get("/readyz")]
    finally:
        await app.state.database.dispose()

    assert own.status_code == 200
    assert other.status_code == 400
    assert EVIL not in other.text
    assert [r.status_code for r in health] == [200, 200]
