"""Anonymous forms need no stored session (a signed double-submit cookie carries their
CSRF token), and expired sessions are swept on a schedule."""

import asyncio
from datetime import UTC, datetime, timedelta

from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from contoso import main
from contoso.middleware import CSRF_COOKIE
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
