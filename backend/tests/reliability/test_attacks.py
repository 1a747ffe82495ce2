"""Attacks, each a test that sends X and expects Y."""

import asyncio

import pytest

from tests.support.console import ConsoleBrowser
from tests.support.factories import PASSWORD
from tests.support.forms import csrf_from, submit_form


async def test_employee_b_cannot_read_edit_or_decide_employee_as_ticket(client, factory, figures):
    alice, bob = await factory.employee(), await factory.employee()
    ticket = await factory.ticket(alice)
    url = f"/api/tickets/{ticket['id']}"

    reached = [
        await client.get(url, headers=bob.headers),
        await client.get(f"{url}/history", headers=bob.headers),
        await client.patch(url, json={"amount": "1.00"}, headers=bob.headers),
    ]
    decided = [
        await client.post(f"{url}/approve", headers=bob.headers),
        await client.post(f"{url}/deny", headers=bob.headers),
        await client.post("/api/tickets/999999/approve", headers=bob.headers),
    ]

    # 404, not 403: the answer is the same as for an id that does not exist.
    assert [r.status_code for r in reached] == [404] * 3
    missing = await client.get("/api/tickets/999999", headers=bob.headers)
    assert {r.json()["detail"] for r in reached} == {f"Ticket {ticket['id']} not found."}
    assert missing.json()["detail"] == "Ticket 999999 not found."
    # Deciding is refused for the role before any ticket is looked at: the same 403
    # whether the ticket is someone's or does not exist.
    assert [r.status_code for r in decided] == [403] * 3
    assert decided[0].json() == decided[2].json()
    unchanged = await client.get(url, headers=alice.headers)
    assert unchanged.json() == ticket
    figures.add("attacks", requests=len(reached) + len(decided) + 2)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/tickets", {"owner_id": 1}),
        ("post", "/api/tickets", {"owner": {"id": 1}}),
        ("post", "/api/tickets", {"status": "approved"}),
        ("post", "/api/tickets", {"decided_by": 1}),
        ("patch", "/api/tickets/{id}", {"status": "approved"}),
        ("patch", "/api/tickets/{id}", {"owner_id": 1}),
        ("patch", "/api/tickets/{id}", {"decided_by_id": 1}),
        ("patch", "/api/tickets/{id}", {"decision_note": "approved by me"}),
    ],
)
async def test_mass_assignment_changes_nothing(client, factory, figures, method, path, body):
    victim, attacker = await factory.employee(), await factory.employee()
    mine = await factory.ticket(attacker)
    base = {"spent_on": "2026-01-02", "amount": "3.00", "description": "x"}
    payload = base | body if method == "post" else body

    response = await client.request(
        method, path.format(id=mine["id"]), json=payload, headers=attacker.headers
    )

    assert response.status_code == 422
    after = await client.get(f"/api/tickets/{mine['id']}", headers=attacker.headers)
    assert after.json() == mine
    listing = await client.get("/api/tickets", headers=victim.headers)
    assert listing.json()["total"] == 0
    figures.add("attacks", requests=1)


async def test_registration_cannot_smuggle_state(client, figures):
    response = await client.post(
        "/api/auth/register",
        json={
            "email": "m@example.com",
            "password": PASSWORD,
            "username": "M",
            "role": "employee",
            "suspended": True,
            "token_version": 9,
            "id": 1,
        },
    )
    assert response.status_code == 422
    figures.add("attacks", requests=1)


async def test_login_answers_unknown_and_wrong_alike(client, factory, figures):
    await factory.employee(email="known@example.com")
    unknown = await client.post(
        "/api/auth/login", json={"email": "nobody@example.com", "password": "guess-1234"}
    )
    wrong = await client.post(
        "/api/auth/login", json={"email": "known@example.com", "password": "guess-1234"}
    )
    assert (unknown.status_code, unknown.json()) == (wrong.status_code, wrong.json())
    figures.add("attacks", requests=2)


async def test_brute_force_on_one_account_gets_429_with_retry_after(client, factory, figures):
    alice = await factory.employee()
    bob = await factory.employee()

    failures = [
        await client.post(
            "/api/auth/login", json={"email": alice.email, "password": f"guess-{n:04}"}
        )
        for n in range(10)
    ]
    blocked = await client.post(
        "/api/auth/login", json={"email": alice.email, "password": PASSWORD}
    )
    other_account = await client.post(
        "/api/auth/login", json={"email": bob.email, "password": PASSWORD}
    )

    assert {r.status_code for r in failures} == {401}
    assert blocked.status_code == 429  # even the right password waits out the window
    assert int(blocked.headers["retry-after"]) > 0
    assert "try again in" in blocked.json()["detail"]
    assert other_account.status_code == 200  # the limit is per account, not global
    figures.add("attacks", requests=12)


async def test_the_throttle_covers_the_token_form_the_pages_and_the_console(client, factory):
    alice = await factory.employee()
    for n in range(10):
        await client.post("/api/auth/token", data={"username": alice.email, "password": f"g{n:07}"})

    token = await client.post(
        "/api/auth/token", data={"username": alice.email, "password": PASSWORD}
    )
    form = await submit_form(client, "/", {"email": alice.email, "password": PASSWORD})
    console = await submit_form(
        client, "/admin/login", {"username": alice.email, "password": PASSWORD}
    )

    # Every door answers a throttled login the same way: 429 and when to come back.
    for answer in (token, form, console):
        assert answer.status_code == 429
        assert int(answer.headers["retry-after"]) > 0
    assert "Too many failed logins" in form.text
    assert "Too many failed logins" in console.text


async def test_a_successful_login_clears_the_failure_count(client, factory):
    alice = await factory.employee()
    for round_ in range(3):
        for n in range(9):
            await client.post(
                "/api/auth/login", json={"email": alice.email, "password": f"x{round_}{n:06}"}
            )
        ok = await client.post("/api/auth/login", json={"email": alice.email, "password": PASSWORD})
        assert ok.status_code == 200


async def test_oversized_bodies_are_refused_with_413(client, factory, figures):
    alice = await factory.employee()
    huge = {"spent_on": "2026-01-02", "amount": "3.00", "description": "x" * (2 * 1024 * 1024)}

    response = await client.post("/api/tickets", json=huge, headers=alice.headers)

    async def chunks():
        for _ in range(40):
            yield b"x" * 65536

    streamed = await client.post(
        "/api/tickets",
        content=chunks(),
        headers=alice.headers | {"content-type": "application/json"},
    )

    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert streamed.status_code == 413
    assert (await client.get("/api/tickets", headers=alice.headers)).json()["total"] == 0
    figures.add("attacks", requests=2)


async def test_list_limits_are_capped(client, factory):
    alice = await factory.employee()
    response = await client.get("/api/tickets?limit=100000", headers=alice.headers)
    assert response.status_code == 422
    assert "less than or equal to 200" in str(response.json()["detail"])


@pytest.mark.parametrize(
    "text",
    [
        "報銷 出租车 🚕 עברית العربية",
        "\u200b\u200d zero-width",
        "e\u0301 combining",
        "\U0001d518\U0001d52b\U0001d526\U0001d520\U0001d52c\U0001d521\U0001d522 " * 100,
        "x" * 2000,
    ],
)
async def test_unicode_and_long_text_work_everywhere(client, factory, figures, text):
    alice = await factory.employee()
    as_name = await client.post(
        "/api/auth/register",
        json={"email": "uni@example.com", "password": PASSWORD, "username": text[:64]},
    )

    ticket = await factory.ticket(alice, description=text)
    listed = await client.get("/api/tickets", headers=alice.headers)

    assert ticket["description"] == text.strip()
    assert listed.json()["items"][0]["description"] == text.strip()
    # A name either works as typed or is refused with a reason (invisible characters).
    if as_name.status_code == 201:
        assert as_name.json()["user"]["username"] == text[:64].strip()
    else:
        assert as_name.status_code == 422
        assert "control characters" in as_name.json()["detail"][0]["msg"]
    figures.add("attacks", requests=4)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", "x" * 2001),
        ("description", "nul\x00byte"),
        ("username", "x" * 65),
        ("links", ["https://example.com/" + "y" * 2100]),
        ("amount", "9" * 400),
        ("spent_on", "9999999-01-01"),
    ],
)
async def test_overlong_or_malformed_fields_get_a_clear_4xx(client, factory, figures, field, value):
    alice = await factory.employee()
    if field == "username":
        response = await client.post(
            "/api/auth/register",
            json={"email": "long@example.com", "password": PASSWORD, "username": value},
        )
    else:
        body = {"spent_on": "2026-01-02", "amount": "3.00", "description": "x", field: value}
        response = await client.post("/api/tickets", json=body, headers=alice.headers)

    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"]
    figures.add("attacks", requests=1)


async def test_html_in_tickets_is_shown_as_text_in_the_api_pages_and_console(client, factory):
    script = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    boss = await factory.employer()
    alice = await factory.employee()
    ticket = await factory.ticket(alice, description=script, links=["https://x.example.com/?q=<b>"])

    api = await client.get("/api/tickets", headers=alice.headers)
    browser = ConsoleBrowser(client)
    await browser.login_as(boss)
    listed = await client.get("/admin/tickets/list")
    # The list shows a link count; the ticket's page shows the links themselves.
    console = await client.get(f"/admin/tickets/details/{ticket['id']}")
    await submit_form(client, "/admin/logout", {})
    await submit_form(client, "/", {"email": alice.email, "password": PASSWORD})
    mine = await client.get("/tickets")

    assert api.json()["items"][0]["description"] == script  # JSON carries it verbatim
    assert api.headers["content-type"] == "application/json"
    assert script not in listed.text and "&lt;script&gt;" in listed.text
    for html in (console.text, mine.text):
        assert script not in html
        assert "&lt;script&gt;" in html
        assert "<b>" not in html.split("x.example.com")[1][:20]


async def test_cross_site_get_of_an_action_changes_nothing(client, factory):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    browser = ConsoleBrowser(client)
    await browser.login_as(boss)

    await client.get(
        f"/admin/tickets/action/approve?pks={ticket['id']}",
        headers={"Referer": "https://evil.example.com/", "Sec-Fetch-Site": "cross-site"},
    )
    await client.get(f"/admin/employees/action/suspend?pks={alice.id}")

    seen = await client.get(f"/api/tickets/{ticket['id']}", headers=alice.headers)
    assert seen.json()["status"] == "pending"


async def _wrong_login(client, door: str, email: str, n: int, csrf: str):
    password = f"p{n:07}"
    if door == "api":
        return await client.post("/api/auth/login", json={"email": email, "password": password})
    if door == "token form":
        return await client.post("/api/auth/token", data={"username": email, "password": password})
    if door == "page":
        form = {"email": email, "password": password, "csrf_token": csrf}
        return await client.post("/", data=form)
    form = {"username": email, "password": password, "csrf_token": csrf}
    return await client.post("/admin/login", data=form)


@pytest.mark.parametrize("door", ["api", "token form", "page", "console"])
async def test_concurrent_wrong_logins_get_no_more_tries_than_the_limit(
    client, factory, door, figures
):
    # The limit is 10: counting only failures, after the ~0.3 s hash, let all 30
    # concurrent guesses through before the first was counted.
    alice = await factory.employee()
    login_page = "/admin/login" if door == "console" else "/"
    csrf = csrf_from(await client.get(login_page))

    responses = await asyncio.gather(
        *(_wrong_login(client, door, alice.email, n, csrf) for n in range(30))
    )

    codes = [r.status_code for r in responses]
    assert set(codes) <= {401, 429}
    assert len([c for c in codes if c != 429]) <= 10
    assert codes.count(401) == 10  # the slots were all used, none lost
    right = await client.post("/api/auth/login", json={"email": alice.email, "password": PASSWORD})
    assert right.status_code == 429
    figures.add(f"probe: concurrent wrong logins, {door}", requests=30, not_429=10)


async def test_nothing_personal_is_kept_in_a_browser_or_proxy_cache(client, factory):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    console = ConsoleBrowser(client)
    await console.login_as(boss)

    personal = [
        await client.get("/api/tickets", headers=alice.headers),
        await client.get(f"/api/tickets/{ticket['id']}", headers=alice.headers),
        await client.post("/api/auth/login", json={"email": alice.email, "password": PASSWORD}),
        await client.get("/admin/tickets/list"),
        await client.get(f"/admin/tickets/details/{ticket['id']}"),
        await client.get("/"),
    ]
    stylesheet = await client.get("/admin/statics/css/tabler.min.css")

    # A shared computer's back button or a caching proxy must not replay these.
    assert [r.headers.get("cache-control") for r in personal] == ["no-store"] * len(personal)
    assert stylesheet.status_code == 200
    assert "no-store" not in stylesheet.headers.get("cache-control", "")
