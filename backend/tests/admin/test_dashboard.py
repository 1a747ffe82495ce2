"""The console's dashboard as an employer sees it: figures, links, the chart."""

import re
from datetime import date
from urllib.parse import urlsplit

from tests.support.factories import PASSWORD
from tests.support.forms import csrf_from, submit_form

PLOT_HEIGHT = 240  # the chart's plot area, in SVG units


def this_month_and(back: int) -> list[str]:
    """Today, and a day `back` months earlier, as ISO dates."""
    today = date.today()
    index = today.year * 12 + today.month - 1 - back
    return [today.isoformat(), date(index // 12, index % 12 + 1, 15).isoformat()]


def href(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}" href="([^"]+)"', page)
    assert found, f"no link with id {element_id}"
    return found.group(1).replace("&amp;", "&")


def bar_height(page: str, title: str) -> float:
    found = re.search(
        rf'height="([\d.]+)" fill="#[0-9a-f]+"><title>{re.escape(title)}</title>', page
    )
    assert found, f"no bar titled {title!r}"
    return float(found.group(1))


async def test_the_cards_and_top_employees_show_amounts_in_one_format(browser, factory, client):
    alice, bob, boss = (
        await factory.employee(username="<b>Alice</b>"),
        await factory.employee(username="Bob"),
        await factory.employer(),
    )
    today = date.today().isoformat()
    approved = await factory.ticket(alice, amount="100.00", spent_on=today)
    await factory.ticket(alice, amount="1249.99", spent_on=today)
    await factory.ticket(alice, amount="50.25", spent_on=today)
    denied = await factory.ticket(bob, amount="10.00", spent_on=today)
    await factory.ticket(bob, amount="7.00", spent_on=today)
    await client.post(f"/api/tickets/{approved['id']}/approve", headers=boss.headers)
    await client.post(f"/api/tickets/{denied['id']}/deny", headers=boss.headers)
    await browser.login_as(boss)

    page = (await browser.client.get("/admin/")).text

    assert 'id="pending-count">3<' in page
    assert 'id="pending-amount">$1,307.24<' in page
    assert 'id="approved-month">1<' in page
    assert 'id="approved-month-amount">$100.00<' in page
    assert 'id="denied-month">1<' in page
    assert 'id="denied-month-amount">$10.00<' in page
    top = page[page.index('id="top-pending"') :]
    # Most pending money first, the name escaped, amounts grouped.
    assert top.index("&lt;b&gt;Alice&lt;/b&gt;") < top.index("Bob")
    assert "<b>Alice</b>" not in page
    assert ">$1,300.24<" in top and ">$7.00<" in top


async def test_each_card_leads_to_the_tickets_behind_it(browser, factory, client):
    alice, boss = await factory.employee(), await factory.employer()
    waiting = await factory.ticket(alice, description="Still waiting")
    paid = await factory.ticket(alice, description="Already paid")
    refused = await factory.ticket(alice, description="Never paid")
    await client.post(f"/api/tickets/{paid['id']}/approve", headers=boss.headers)
    await client.post(f"/api/tickets/{refused['id']}/deny", headers=boss.headers)
    await browser.login_as(boss)
    page = (await browser.client.get("/admin/")).text

    for card, shown in (
        ("pending-card", waiting),
        ("pending-amount-card", waiting),
        ("approved-card", paid),
        ("denied-card", refused),
    ):
        listed = await browser.client.get(href(page, card))
        assert listed.status_code == 200
        descriptions = {waiting["description"], paid["description"], refused["description"]}
        assert [d for d in descriptions if d in listed.text] == [shown["description"]], card


async def test_a_top_employee_links_to_their_page(browser, factory):
    alice, boss = await factory.employee(username="Alice"), await factory.employer()
    await factory.ticket(alice, amount="80.00")
    await browser.login_as(boss)
    page = (await browser.client.get("/admin/")).text

    top = page[page.index('id="top-pending"') :]
    link = re.search(r'<a href="([^"]+)"><bdi>Alice</bdi></a>', top)
    assert link
    employee_page = await browser.client.get(link.group(1))

    assert employee_page.status_code == 200
    assert alice.email in employee_page.text


async def test_the_chart_separates_decisions_and_a_huge_denial_flattens_nothing(
    browser, factory, client
):
    alice, bob, boss = await factory.employee(), await factory.employee(), await factory.employer()
    today, earlier = this_month_and(2)
    paid = await factory.ticket(alice, amount="100.00", spent_on=today)
    await factory.ticket(alice, amount="50.00", spent_on=today)
    paid_earlier = await factory.ticket(alice, amount="40.00", spent_on=earlier)
    huge = await factory.ticket(bob, amount="1000000.00", spent_on=today)
    for ticket in (paid, paid_earlier):
        await client.post(f"/api/tickets/{ticket['id']}/approve", headers=boss.headers)
    await client.post(f"/api/tickets/{huge['id']}/deny", headers=boss.headers)
    await browser.login_as(boss)

    page = (await browser.client.get("/admin/")).text

    now = date.fromisoformat(today).strftime("%b %Y")
    then = date.fromisoformat(earlier).strftime("%b %Y")
    svg = page[page.index("<svg") : page.index("</svg>")]
    # Labelled for people who cannot see it, with a legend and months with their year.
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert all(f">{word}<" in svg for word in ("Approved", "Pending", "Denied"))
    assert f">{now}<" in svg and f">{then}<" in svg
    assert svg.count("</text>") >= 12 + 3 + 2  # months, legend, at least two gridlines
    assert ">$0.00<" in svg and ">$150.00<" in svg  # the scale, in the cards' format
    # The scale is the money paid or to pay: the denial does not shrink the rest.
    assert bar_height(page, f"{now}: $100.00 approved") >= PLOT_HEIGHT / 2
    assert bar_height(page, f"{now}: $50.00 pending") >= PLOT_HEIGHT / 4
    assert bar_height(page, f"{then}: $40.00 approved") >= PLOT_HEIGHT / 5
    assert bar_height(page, f"{now}: $1,000,000.00 denied (beyond the scale)") == PLOT_HEIGHT
    # Every figure is also in a table.
    table = page[page.index('id="spend-table"') :]
    row = table[table.index(f">{now}<") :]
    row = row[: row.index("</tr>")]
    assert re.findall(r">([^<]+)</td>", row) == ["$100.00", "$50.00", "$1,000,000.00"]


async def test_a_suspended_employees_money_leaves_the_dashboard_and_comes_back(
    browser, factory, client
):
    alice, bob, boss = await factory.employee(), await factory.employee(), await factory.employer()
    await factory.ticket(alice, amount="30.00")
    paid = await factory.ticket(bob, amount="12.00")
    await factory.ticket(bob, amount="5.00")
    await client.post(f"/api/tickets/{paid['id']}/approve", headers=boss.headers)
    await browser.login_as(boss)

    suspended = await browser.confirm("employees", "suspend", [bob.id])
    assert suspended.status_code == 303
    hidden = (await browser.client.get("/admin/")).text
    reactivated = await browser.confirm("employees", "reactivate", [bob.id])
    assert reactivated.status_code == 303
    back = (await browser.client.get("/admin/")).text

    assert 'id="pending-amount">$30.00<' in hidden
    assert 'id="approved-month">0<' in hidden
    assert bob.email not in hidden
    assert 'id="pending-amount">$35.00<' in back
    assert 'id="approved-month-amount">$12.00<' in back
    assert bob.email in back


async def test_an_empty_dashboard_says_so(browser, factory):
    boss = await factory.employer()
    await browser.login_as(boss)

    page = await browser.client.get("/admin/")

    assert page.status_code == 200
    assert 'id="pending-count">0<' in page.text
    assert 'id="pending-amount">$0.00<' in page.text
    assert "Nothing pending." in page.text


async def test_money_awaiting_payment_and_paid_this_month_follow_payments_and_suspensions(
    browser, factory, client
):
    alice, bob, boss = await factory.employee(), await factory.employee(), await factory.employer()
    alices = [await factory.ticket(alice, amount=value) for value in ("10.00", "20.00", "30.00")]
    bobs = [await factory.ticket(bob, amount="5.00")]
    for ticket in alices + bobs:
        await client.post(f"/api/tickets/{ticket['id']}/approve", headers=boss.headers)
    await browser.login_as(boss)
    before = (await browser.client.get("/admin/")).text
    paid = await client.post(
        "/api/payments",
        json={"ticket_ids": [alices[0]["id"], bobs[0]["id"]]},
        headers=boss.headers,
    )
    assert paid.status_code == 201, paid.text

    after = (await browser.client.get("/admin/")).text
    await browser.confirm("employees", "suspend", [alice.id])
    suspended = (await browser.client.get("/admin/")).text
    await browser.confirm("employees", "reactivate", [alice.id])
    back = (await browser.client.get("/admin/")).text

    def figures(page: str) -> tuple[str, ...]:
        ids = ("awaiting-payment-count", "awaiting-payment-amount", "paid-count", "paid-amount")
        return tuple(re.search(rf'id="{i}">([^<]*)<', page).group(1) for i in ids)

    assert figures(before) == ("4", "$65.00", "0", "$0.00")
    assert figures(after) == ("2", "$50.00", "2", "$15.00")
    # Paid tickets were approved: this month's approvals still count them.
    assert 'id="approved-month">4<' in after and 'id="approved-month-amount">$65.00<' in after
    assert figures(suspended) == ("0", "$0.00", "1", "$5.00")
    assert figures(back) == figures(after)


async def test_the_payment_cards_lead_to_the_tickets_behind_them(browser, factory, client):
    alice, boss = await factory.employee(), await factory.employer()
    waiting = await factory.ticket(alice, description="Approved, not paid")
    done = await factory.ticket(alice, description="Paid already")
    for ticket in (waiting, done):
        await client.post(f"/api/tickets/{ticket['id']}/approve", headers=boss.headers)
    await client.post("/api/payments", json={"ticket_ids": [done["id"]]}, headers=boss.headers)
    await browser.login_as(boss)
    page = (await browser.client.get("/admin/")).text

    for card, shown, hidden in (
        ("awaiting-payment-card", waiting, done),
        ("paid-card", done, waiting),
    ):
        listed = (await browser.client.get(href(page, card))).text
        assert shown["description"] in listed and hidden["description"] not in listed, card


def digest_card(page: str) -> str:
    found = re.search(r'id="digest-setting">(.*?)</form>', page, re.S)
    assert found, "no digest setting on the dashboard"
    return found.group(1)


async def test_an_employer_stops_and_restarts_the_digest_from_the_dashboard(
    browser, factory, client
):
    boss = await factory.employer()
    await browser.login_as(boss)

    before = await browser.client.get("/admin/")
    stopped = await browser.client.post(
        "/admin/settings/emails",
        data={"email_notifications": "off", "csrf_token": csrf_from(before)},
        follow_redirects=True,
    )
    setting = (await client.get("/api/users/me", headers=boss.headers)).json()
    restarted = await browser.client.post(
        "/admin/settings/emails",
        data={"email_notifications": "on", "csrf_token": csrf_from(stopped)},
        follow_redirects=True,
    )
    forged = await browser.client.post(
        "/admin/settings/emails", data={"email_notifications": "off"}
    )
    garbled = await browser.client.post(
        "/admin/settings/emails",
        data={"email_notifications": "maybe", "csrf_token": csrf_from(restarted)},
    )

    assert "at most every 12 hours" in digest_card(before.text)
    assert "Stop the digest" in before.text
    assert "You will get no more digests" in stopped.text
    assert "You get no digest" in digest_card(stopped.text)
    assert setting["email_notifications"] is False
    assert "You will get the digest" in restarted.text and "Stop the digest" in restarted.text
    assert (await client.get("/api/users/me", headers=boss.headers)).json()[
        "email_notifications"
    ] is True
    assert forged.status_code == 403
    assert garbled.status_code == 400


async def test_the_digest_switch_is_for_logged_in_employers(client, factory):
    alice = await factory.employee()
    anonymous = await client.post("/admin/settings/emails", data={"email_notifications": "off"})
    # Logged in on the pages, with a good token: still no employer.
    await submit_form(client, "/", {"email": alice.email, "password": PASSWORD})
    page = await client.get("/tickets")
    as_employee = await client.post(
        "/admin/settings/emails",
        data={"email_notifications": "off", "csrf_token": csrf_from(page)},
    )

    assert anonymous.status_code == 403  # no CSRF token, no session: refused unread
    assert as_employee.status_code == 302
    assert urlsplit(as_employee.headers["location"]).path == "/admin/login"
    me = await client.get("/api/users/me", headers=alice.headers)
    assert me.json()["email_notifications"] is True
