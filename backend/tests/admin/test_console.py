"""The employer console, driven over HTTP the way a browser drives it."""

import hashlib
import re
from datetime import timedelta

from httpx import ASGITransport, AsyncClient
from sqlalchemy import text

from contoso.main import create_app
from tests.support.console import ConsoleBrowser
from tests.support.factories import PASSWORD
from tests.support.forms import csrf_from, submit_form


async def test_an_employer_logs_in_and_sees_the_dashboard(browser, factory):
    boss = await factory.employer()

    await browser.login_as(boss)
    page = await browser.client.get("/admin/")

    assert page.status_code == 200
    assert "Pending tickets" in page.text


async def test_employees_and_wrong_passwords_are_refused_plainly(browser, factory):
    alice = await factory.employee()
    boss = await factory.employer()

    employee = await browser.login(alice.email)
    wrong = await browser.login(boss.email, "not-the-password")

    # The statuses the API gives for the same refusals.
    assert employee.status_code == 403
    assert "This console is for employers" in employee.text
    assert wrong.status_code == 401
    assert "Incorrect email or password." in wrong.text
    assert (await browser.client.get("/admin/")).status_code == 302  # still logged out


async def test_a_suspended_account_is_refused_at_login(browser, factory, client):
    alice, boss = await factory.employee(), await factory.employer()
    await client.post(f"/api/employees/{alice.id}/suspend", headers=boss.headers)

    response = await browser.login(alice.email)

    assert response.status_code == 403  # as the API answers a suspended login
    assert "suspended" in response.text


async def test_the_session_id_changes_at_login_and_the_old_one_is_dead(browser, factory, app):
    boss = await factory.employer()
    # A session that exists before login: a registration begun on the pages (anonymous
    # views have none), as an attacker would plant to fix the id.
    await submit_form(browser.client, "/", {"email": "new@example.com", "password": PASSWORD})
    before = browser.session_cookie
    assert before

    await browser.login_as(boss)
    after = browser.session_cookie

    assert after and after != before
    # The pre-login session is gone server-side, not just left behind.
    async with app.state.database.engine.connect() as connection:
        stored = (await connection.scalars(text("SELECT id_hash FROM sessions"))).all()
    assert stored == [hashlib.sha256(after.encode()).hexdigest()]
    # The pre-login id (fixation) gets nothing: replayed, it is a logged-out visitor.
    browser.client.cookies.set("contoso_session", before)
    assert (await browser.client.get("/admin/")).status_code == 302


async def test_a_garbage_cookie_gives_the_login_page_not_a_500(browser):
    for garbage in ("garbage", "eyJfY3NzaWQiOiAieCJ9.forged.signature", "a.b", "%%%", "x" * 4000):
        browser.client.cookies.set("contoso_session", garbage)
        response = await browser.client.get("/admin/", follow_redirects=True)
        assert response.status_code == 200
        assert 'name="password"' in response.text


async def test_a_planted_session_id_is_never_adopted(browser, app):
    # An attacker sets the victim's cookie to an id of their choosing; the victim then
    # starts a registration (the step that creates a session before any login).
    planted = "0123456789abcdef0123456789abcdef"
    # The domain the jar files the app's own cookies under, so the app's replaces it.
    browser.client.cookies.set("contoso_session", planted, domain="test.local")

    await submit_form(browser.client, "/", {"email": "new@example.com", "password": PASSWORD})

    assert browser.session_cookie and browser.session_cookie != planted
    async with app.state.database.engine.connect() as connection:
        stored = await connection.scalar(text("SELECT count(*) FROM sessions"))
    assert stored == 1


async def test_a_deleted_server_side_session_gives_the_login_page(browser, factory, app):
    boss = await factory.employer()
    await browser.login_as(boss)
    async with app.state.database.engine.begin() as connection:
        await connection.execute(text("DELETE FROM sessions"))

    response = await browser.client.get("/admin/", follow_redirects=True)

    assert response.status_code == 200
    assert 'name="password"' in response.text


async def test_an_expired_session_gives_the_login_page_before_it_is_swept(browser, factory, app):
    boss = await factory.employer()
    await browser.login_as(boss)
    async with app.state.database.engine.begin() as connection:
        await connection.execute(text("UPDATE sessions SET expires_at = now() - interval '1s'"))

    assert (await browser.client.get("/admin/")).status_code == 302


async def test_each_click_keeps_the_session_for_another_eight_hours(browser, factory, app):
    boss = await factory.employer()
    await browser.login_as(boss)
    # A session begun almost 8 hours ago (starsessions keeps its start in the data),
    # a minute from expiring.
    async with app.state.database.engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE sessions SET expires_at = now() + interval '1m', data = jsonb_set("
                "data, '{__metadata__,created}', to_jsonb(extract(epoch FROM now()) - 28740))"
            )
        )

    page = await browser.client.get("/admin/")

    assert page.status_code == 200
    async with app.state.database.engine.connect() as connection:
        left = await connection.scalar(text("SELECT expires_at - now() FROM sessions"))
    assert left > timedelta(hours=7, minutes=59)


async def test_the_cookie_holds_only_a_random_id_and_is_strict(browser, factory, app):
    boss = await factory.employer()
    page = await browser.client.get("/admin/login")
    response = await browser.client.post(
        "/admin/login",
        data={
            "username": boss.email,
            "password": "correct horse battery staple",
            "csrf_token": csrf_from(page),
        },
    )

    flags = {flag.strip().lower() for flag in response.headers["set-cookie"].split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/", f"max-age={8 * 3600}"} <= flags
    assert "secure" not in flags  # HTTPS is off in the tests; see the next test
    # The cookie carries a random id and nothing else: the data, and the user's id,
    # are only server-side, under a hash of that id.
    assert re.fullmatch("[0-9a-f]{32}", browser.session_cookie)
    async with app.state.database.engine.connect() as connection:
        stored = await connection.execute(text("SELECT id_hash, data FROM sessions"))
        [(id_hash, data)] = stored.all()
    assert data["user_id"] == boss.id
    assert id_hash == hashlib.sha256(browser.session_cookie.encode()).hexdigest()


async def test_with_the_https_setting_the_session_cookie_is_secure(settings, factory):
    boss = await factory.employer()
    running = create_app(settings.model_copy(update={"https": True}))
    try:
        transport = ASGITransport(app=running)
        async with AsyncClient(transport=transport, base_url="https://test") as client:
            response = await ConsoleBrowser(client).login(boss.email)
    finally:
        await running.state.database.dispose()

    assert response.status_code == 303
    cookie = next(
        header
        for header in response.headers.get_list("set-cookie")
        if header.startswith("contoso_session=")
    )
    assert "secure" in {flag.strip().lower() for flag in cookie.split(";")[1:]}


async def test_logout_is_a_post_and_deletes_the_server_side_session(browser, factory, app):
    boss = await factory.employer()
    await browser.login_as(boss)
    session_id = browser.session_cookie

    confirm = await browser.client.get("/admin/logout")
    assert (await browser.client.get("/admin/")).status_code == 200  # the GET changed nothing
    await browser.client.post("/admin/logout", data={"csrf_token": csrf_from(confirm)})

    async with app.state.database.engine.connect() as connection:
        left = await connection.scalar(text("SELECT count(*) FROM sessions WHERE data ? 'user_id'"))
    assert left == 0
    browser.client.cookies.set("contoso_session", session_id)  # replaying it gets nothing
    assert (await browser.client.get("/admin/")).status_code == 302


async def test_an_employer_demoted_or_removed_loses_the_console_on_the_next_click(
    browser, factory, app
):
    boss = await factory.employer()
    await browser.login_as(boss)
    async with app.state.database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET role = 'employee' WHERE id = :id"), {"id": boss.id}
        )

    assert (await browser.client.get("/admin/tickets/list")).status_code == 302


async def test_the_ticket_list_shows_visible_tickets_only(browser, factory, client):
    alice, bob, boss = await factory.employee(), await factory.employee(), await factory.employer()
    shown = await factory.ticket(alice, description="Visible lunch")
    hidden = await factory.ticket(bob, description="Hidden dinner")
    await client.post(f"/api/employees/{bob.id}/suspend", headers=boss.headers)
    await browser.login_as(boss)

    page = await browser.client.get("/admin/tickets/list")
    detail = await browser.client.get(f"/admin/tickets/details/{hidden['id']}")
    visible_detail = await browser.client.get(f"/admin/tickets/details/{shown['id']}")
    export = await browser.client.get("/admin/tickets/export/csv")

    assert "Visible lunch" in page.text
    assert "Hidden dinner" not in page.text
    assert "Showing 1 to 1 of 1 items" in page.text  # the count excludes hidden tickets too
    assert detail.status_code == 404
    assert visible_detail.status_code == 200
    assert "Visible lunch" in export.text
    assert "Hidden dinner" not in export.text


async def test_ticket_text_and_links_are_escaped(browser, factory):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(
        alice,
        description="<script>alert(1)</script>",
        links=['https://shop.example.com/"><script>x</script>'],
    )
    await browser.login_as(boss)

    page = await browser.client.get("/admin/tickets/list")
    detail = await browser.client.get(f"/admin/tickets/details/{ticket['id']}")

    for html in (page.text, detail.text):
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert '"><script>x</script>' not in html


async def test_the_action_get_shows_a_confirmation_and_changes_nothing(browser, factory, client):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice, amount="40.00")
    await browser.login_as(boss)

    page = await browser.client.get(f"/admin/tickets/action/approve?pks={ticket['id']}")

    assert page.status_code == 200
    assert "$40.00" in page.text
    assert 'method="POST"' in page.text
    seen = await client.get(f"/api/tickets/{ticket['id']}", headers=alice.headers)
    assert seen.json()["status"] == "pending"


async def test_a_bulk_approve_decides_exactly_the_pending_rows_named(browser, factory, client, app):
    alice, boss = await factory.employee(), await factory.employer()
    ids = [(await factory.ticket(alice))["id"] for _ in range(4)]
    untouched = await factory.ticket(alice)
    await client.post(f"/api/tickets/{ids[0]}/deny", headers=boss.headers)
    await browser.login_as(boss)

    response = await browser.confirm("tickets", "approve", ids)

    assert response.status_code == 303
    listing = await browser.client.get(response.headers["location"])
    assert "Approved 3 tickets; 1 skipped: 1 already decided." in listing.text
    statuses = {
        t["id"]: t["status"]
        for t in (await client.get("/api/tickets", headers=alice.headers)).json()["items"]
    }
    assert [statuses[i] for i in ids] == ["denied", "approved", "approved", "approved"]
    assert statuses[untouched["id"]] == "pending"
    async with app.state.database.engine.connect() as connection:
        entries = await connection.scalar(
            text("SELECT count(*) FROM events WHERE kind = 'ticket_approved'")
        )
    assert entries == 3


async def test_a_denial_from_the_console_carries_its_note(browser, factory, client):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    await browser.login_as(boss)

    await browser.confirm("tickets", "deny", [ticket["id"]], note="Receipt missing")

    seen = (await client.get(f"/api/tickets/{ticket['id']}", headers=alice.headers)).json()
    assert seen["status"] == "denied"
    assert seen["decision_note"] == "Receipt missing"
    detail = await browser.client.get(f"/admin/tickets/details/{ticket['id']}")
    assert "Receipt missing" in detail.text  # in the history too
    assert "denied" in detail.text


async def test_posts_without_a_valid_token_or_from_another_site_are_refused(
    browser, factory, client
):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    await browser.login_as(boss)
    page = await browser.client.get(f"/admin/tickets/action/approve?pks={ticket['id']}")
    token = csrf_from(page)
    url = "/admin/tickets/action/approve"

    missing = await browser.client.post(url, data={"pks": str(ticket["id"])})
    wrong = await browser.client.post(url, data={"pks": str(ticket["id"]), "csrf_token": "x"})
    foreign = await browser.client.post(
        url,
        data={"pks": str(ticket["id"]), "csrf_token": token},
        headers={"Origin": "https://evil.example.com"},
    )

    assert missing.status_code == wrong.status_code == foreign.status_code == 403
    seen = await client.get(f"/api/tickets/{ticket['id']}", headers=alice.headers)
    assert seen.json()["status"] == "pending"


async def test_suspension_from_the_console_hides_tickets_everywhere_at_once(
    browser, factory, client
):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice, description="Alice's taxi")
    await browser.login_as(boss)

    suspended = await browser.confirm("employees", "suspend", [alice.id])

    assert suspended.status_code == 303
    assert "Alice's taxi" not in (await browser.client.get("/admin/tickets/list")).text
    assert (
        await client.get(f"/api/tickets/{ticket['id']}", headers=boss.headers)
    ).status_code == 404
    assert (await client.get("/api/users/me", headers=alice.headers)).status_code == 401

    await browser.confirm("employees", "reactivate", [alice.id])

    assert "Alice&#39;s taxi" in (await browser.client.get("/admin/tickets/list")).text
    assert (
        await client.get(f"/api/tickets/{ticket['id']}", headers=boss.headers)
    ).status_code == 200


async def test_employers_are_not_listed_as_employees(browser, factory):
    alice, boss = await factory.employee(), await factory.employer()
    await browser.login_as(boss)

    page = await browser.client.get("/admin/employees/list")
    boss_detail = await browser.client.get(f"/admin/employees/details/{boss.id}")

    assert alice.email in page.text
    assert boss.email not in page.text
    assert boss_detail.status_code == 404


async def test_the_audit_log_lists_decisions_and_suspensions(browser, factory, client):
    alice, boss = await factory.employee(), await factory.employer(username="Boss Lady")
    ticket = await factory.ticket(alice)
    await client.post(
        f"/api/tickets/{ticket['id']}/deny", json={"note": "No receipt"}, headers=boss.headers
    )
    await client.post(f"/api/employees/{alice.id}/suspend", headers=boss.headers)
    await browser.login_as(boss)

    page = await browser.client.get("/admin/audit-log/list")

    assert page.status_code == 200
    assert "ticket_denied" in page.text
    assert "employee_suspended" in page.text
    assert "No receipt" in page.text
    assert "Boss Lady" in page.text


async def test_console_responses_refuse_framing_and_sniffing(browser):
    response = await browser.client.get("/admin/login")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "same-origin"


async def test_the_ticket_list_searches_filters_and_sorts(browser, factory, client):
    alice = await factory.employee(username="Alice Wong", email="alice@example.com")
    bob = await factory.employee(username="Bob")
    boss = await factory.employer()
    await factory.ticket(alice, amount="5.00", description="Coffee")
    dear = await factory.ticket(bob, amount="900.00", description="Flight")
    await client.post(f"/api/tickets/{dear['id']}/approve", headers=boss.headers)
    await browser.login_as(boss)

    by_email = await browser.client.get("/admin/tickets/list?search=alice@")
    by_name = await browser.client.get("/admin/tickets/list?search=bob")
    by_text = await browser.client.get("/admin/tickets/list?search=flig")
    approved = await browser.client.get("/admin/tickets/list?status=approved")
    by_amount = await browser.client.get("/admin/tickets/list?sortBy=company_amount&sort=desc")

    assert "Coffee" in by_email.text and "Flight" not in by_email.text
    assert "Flight" in by_name.text and "Coffee" not in by_name.text
    assert "Flight" in by_text.text and "Coffee" not in by_text.text
    assert "Flight" in approved.text and "Coffee" not in approved.text
    assert by_amount.text.index("$900.00") < by_amount.text.index("$5.00")


async def test_the_employee_list_shows_counts_and_filters_by_state(browser, factory, client):
    alice = await factory.employee(email="alice@example.com")
    bob = await factory.employee(email="bob@example.com")
    boss = await factory.employer()
    for _ in range(3):
        await factory.ticket(alice)
    await client.post(f"/api/employees/{bob.id}/suspend", headers=boss.headers)
    await browser.login_as(boss)

    detail = await browser.client.get(f"/admin/employees/details/{alice.id}")
    suspended = await browser.client.get("/admin/employees/list?suspended=true")
    searched = await browser.client.get("/admin/employees/list?search=alice")

    assert detail.status_code == 200
    assert "Pending tickets" in detail.text and ">3<" in detail.text.replace(" ", "").replace(
        "\n", ""
    )
    assert "bob@example.com" in suspended.text and "alice@example.com" not in suspended.text
    assert "alice@example.com" in searched.text and "bob@example.com" not in searched.text


async def test_the_login_form_itself_needs_its_token(browser, factory):
    boss = await factory.employer()
    await browser.client.get("/admin/login")

    response = await browser.client.post(
        "/admin/login", data={"username": boss.email, "password": "correct horse battery staple"}
    )

    assert response.status_code == 403
    assert (await browser.client.get("/admin/")).status_code == 302


async def test_an_action_with_no_selection_or_a_bad_note_explains_itself(browser, factory):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    await browser.login_as(boss)

    listed = "/admin/tickets/list?status=pending"
    empty = await browser.client.get(
        "/admin/tickets/action/approve?pks=", headers={"Referer": f"http://test{listed}"}
    )
    back = await browser.client.get(empty.headers["location"])
    nonsense = await browser.client.get("/admin/tickets/action/approve?pks=1,abc")
    long_note = await browser.confirm("tickets", "deny", [ticket["id"]], note="x" * 1001)

    # Said on the list the employer was on, not on an empty confirmation page.
    assert empty.status_code == 303
    assert empty.headers["location"] == listed
    assert "Select at least one ticket to approve first." in back.text
    assert nonsense.status_code == 303
    assert long_note.status_code == 400
    assert "at most 1000 characters" in long_note.text
