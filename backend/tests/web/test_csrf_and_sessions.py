"""Anonymous forms need no stored session (a signed double-submit cookie carries their
CSRF token), and expired sessions are swept on a schedule."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from contoso import main
from contoso.browser.csrf import CSRF_COOKIE
from contoso.models import WebSession
from tests.support.factories import PASSWORD
from tests.support.forms import csrf_from


async def _stored_sessions(app) -> int:
    async with app.state.database.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(WebSession)) or 0


async def test_a_thousand_anonymous_page_views_store_no_session(app, figures):
    # One client per visitor: none of them sends a cookie back.
    for _ in range(10):
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://test") as visitor:
            pages = await asyncio.gather(
                *(visitor.get(path) for _ in range(50) for path in ("/", "/admin/login"))
            )
        assert {page.status_code for page in pages} == {200}

    assert await _stored_sessions(app) == 0
    figures.add("probe: anonymous page views", requests=1000, session_rows_stored=0)


def _forged(cookie: str) -> str:
    """The cookie with its signature's first character changed.

    Not its last: that base64 character carries only four of the HMAC's bits, so
    some edits there decode to the same signature and the forgery would pass.
    """
    value, signature = cookie.rsplit(".", 1)
    first = "B" if signature[0] == "A" else "A"
    return f"{value}.{first}{signature[1:]}"


async def test_the_login_form_works_with_its_cookie_and_not_without(app, factory):
    alice = await factory.employee()
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://test") as browser:
        page = await browser.get("/")
        token = csrf_from(page)
        form = {"email": alice.email, "password": PASSWORD, "csrf_token": token}

        cookie = browser.cookies[CSRF_COOKIE]
        browser.cookies.delete(CSRF_COOKIE)
        without_cookie = await browser.post("/", data=form)
        browser.cookies.set(CSRF_COOKIE, _forged(cookie))
        forged_cookie = await browser.post("/", data=form)
        browser.cookies.set(CSRF_COOKIE, cookie)
        logged_in = await browser.post("/", data=form)

    assert "httponly" in page.headers["set-cookie"].lower()
    assert "samesite=strict" in page.headers["set-cookie"].lower()
    assert without_cookie.status_code == 403
    assert forged_cookie.status_code == 403
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == "/tickets"
    assert await _stored_sessions(app) == 1  # created at login, not before


async def test_another_browsers_token_does_not_pass(app, factory):
    alice = await factory.employee()
    transport = ASGITransport(app=app)
    async with (
        AsyncClient(transport=transport, base_url="http://test") as attacker,
        AsyncClient(transport=transport, base_url="http://test") as victim,
    ):
        token = csrf_from(await attacker.get("/"))
        await victim.get("/")  # the victim has a cookie of their own
        forged = await victim.post(
            "/", data={"email": alice.email, "password": PASSWORD, "csrf_token": token}
        )

    assert forged.status_code == 403


async def test_expired_sessions_are_swept_while_the_app_runs(settings, monkeypatch, app):
    monkeypatch.setattr(main, "SESSION_SWEEP_INTERVAL", timedelta(milliseconds=50))
    # An app of its own: its lifespan (which starts the sweeper) runs in this test.
    running = main.create_app(settings)
    now = datetime.now(UTC)
    async with running.state.database.sessionmaker.begin() as session:
        session.add_all(
            [
                WebSession(id_hash="a" * 64, data={}, expires_at=now - timedelta(minutes=1)),
                WebSession(id_hash="b" * 64, data={}, expires_at=now + timedelta(hours=1)),
            ]
        )

    async with running.router.lifespan_context(running):
        for _ in range(100):
            if await _stored_sessions(running) == 1:
                break
            await asyncio.sleep(0.02)
        async with running.state.database.sessionmaker() as session:
            left = (await session.scalars(select(WebSession.id_hash))).all()
    await running.state.database.dispose()

    assert left == ["b" * 64]


def _set_cookie(response, name: str) -> str | None:
    """The Set-Cookie header `response` sends for cookie `name`, if any."""
    headers = response.headers.get_list("set-cookie")
    return next((header for header in headers if header.startswith(f"{name}=")), None)


def _cookie_value(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


# Each door: who logs in, its login form and the field naming the account, a page of a
# logged-in user with a state-changing form (the email switch), that form's target,
# and how to log out.
PAGES = ("employee", "/", "email", "/tickets", "/tickets/settings/emails", "/logout")
CONSOLE = (
    "employer",
    "/admin/login",
    "username",
    "/admin/",
    "/admin/settings/emails",
    "/admin/logout",
)


async def _log_in(browser, door, account):
    """Log in through the door's form: the login page, its token and the answer."""
    _, login, field, *_ = door
    page = await browser.get(login)
    token = csrf_from(page)
    answer = await browser.post(
        login, data={field: account.email, "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 303, answer.text
    return token, answer


@pytest.mark.parametrize("door", [PAGES, CONSOLE], ids=["pages", "console"])
async def test_the_login_pages_csrf_token_is_refused_once_logged_in(app, factory, door):
    role, _, _, home, switch, _ = door
    user = await factory.account(role)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as browser:
        await browser.get(home)  # a CSRF cookie from before login
        planted = browser.cookies[CSRF_COOKIE]
        old_token, logged_in = await _log_in(browser, door, user)
        with_old_token = await browser.post(
            switch, data={"email_notifications": "off", "csrf_token": old_token}
        )
        # The old cookie put back (planted by someone who read its token) does not help.
        browser.cookies.delete(CSRF_COOKIE)
        browser.cookies.set(CSRF_COOKIE, planted)
        with_old_cookie = await browser.post(
            switch, data={"email_notifications": "off", "csrf_token": old_token}
        )
        page = await browser.get(home)
        with_session_token = await browser.post(
            switch, data={"email_notifications": "off", "csrf_token": csrf_from(page)}
        )

    renewed = _set_cookie(logged_in, CSRF_COOKIE)
    assert renewed is not None and _cookie_value(renewed) != planted
    assert with_old_token.status_code == 403
    assert with_old_cookie.status_code == 403
    assert "did not come from this site" in with_old_cookie.text
    assert csrf_from(page) != old_token
    assert with_session_token.status_code == 303


@pytest.mark.parametrize("door", [PAGES, CONSOLE], ids=["pages", "console"])
async def test_logging_out_renews_the_csrf_cookie_and_the_sessions_token_dies(app, factory, door):
    role, login, field, home, _, logout = door
    user = await factory.account(role)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as browser:
        await _log_in(browser, door, user)
        cookie_while_in = browser.cookies[CSRF_COOKIE]
        # The console asks to confirm a logout; the pages' logout button is on every page.
        session_token = csrf_from(await browser.get(logout if role == "employer" else home))
        logged_out = await browser.post(logout, data={"csrf_token": session_token})
        again_with_old_token = await browser.post(
            login, data={field: user.email, "password": PASSWORD, "csrf_token": session_token}
        )
        login_page = await browser.get(login)
        again = await browser.post(
            login,
            data={field: user.email, "password": PASSWORD, "csrf_token": csrf_from(login_page)},
        )

    assert logged_out.status_code == 303
    renewed = _set_cookie(logged_out, CSRF_COOKIE)
    assert renewed is not None and _cookie_value(renewed) != cookie_while_in
    assert again_with_old_token.status_code == 403
    assert again.status_code == 303


async def test_over_https_the_csrf_cookie_is_a_host_cookie(app, factory):
    alice = await factory.employee()
    async with AsyncClient(transport=ASGITransport(app=app), base_url="https://test") as browser:
        page = await browser.get("/")
        _, logged_in = await _log_in(browser, PAGES, alice)

    cookie = _set_cookie(page, "__Host-contoso_csrf")
    assert cookie is not None, page.headers.get_list("set-cookie")
    flags = [flag.strip().lower() for flag in cookie.split(";")[1:]]
    assert {"secure", "path=/", "httponly", "samesite=strict"} <= set(flags)
    assert not any(flag.startswith("domain") for flag in flags)
    assert _set_cookie(page, CSRF_COOKIE) is None
    assert logged_in.headers["location"] == "/tickets"
    assert _set_cookie(logged_in, "__Host-contoso_csrf") is not None


async def test_with_the_https_setting_the_csrf_cookie_is_a_host_cookie_behind_any_proxy(
    settings,
):
    # HTTPS=true: the browser is on HTTPS even when the request reaching the app says http
    # (a proxy whose X-Forwarded-Proto is not believed).
    running = main.create_app(settings.model_copy(update={"https": True}))
    try:
        async with AsyncClient(
            transport=ASGITransport(app=running), base_url="http://test"
        ) as browser:
            page = await browser.get("/")
    finally:
        await running.state.database.dispose()

    cookie = _set_cookie(page, "__Host-contoso_csrf")
    assert cookie is not None, page.headers.get_list("set-cookie")
    assert "secure" in cookie.lower() and "path=/" in cookie.lower()
