"""Logging in from a link: a logged-out visitor who opens a page (an email's link to a
ticket, the digest's link to the console) logs in and lands on that page, never on
another site's."""

import html
import re
from urllib.parse import quote, urlsplit

import pytest

from tests.support.console import ConsoleBrowser
from tests.support.factories import PASSWORD
from tests.support.forms import csrf_from

NEXT_FIELD = re.compile(r'name="next" value="([^"]*)"')


async def _log_in_from(client, location: str, email: str, password: str = PASSWORD):
    """Open the login form at `location` and submit it as a browser does, its hidden
    `next` field included: the form's answer."""
    page = await client.get(location)
    assert page.status_code == 200, page.text
    console = urlsplit(location).path.startswith("/admin/")
    form = {"username" if console else "email": email, "password": password}
    form["csrf_token"] = csrf_from(page)
    if hidden := NEXT_FIELD.search(page.text):
        form["next"] = html.unescape(hidden.group(1))
    return await client.post(location.split("?")[0], data=form)


async def test_a_tickets_link_opened_logged_out_lands_on_the_ticket_after_login(client, factory):
    alice = await factory.employee()
    ticket = await factory.ticket(alice, description="Taxi to the airport")

    asked = await client.get(f"/tickets/{ticket['id']}")
    logged_in = await _log_in_from(client, asked.headers["location"], alice.email)
    shown = await client.get(logged_in.headers["location"])

    assert asked.status_code == 303
    assert asked.headers["location"] == f"/?next=%2Ftickets%2F{ticket['id']}"
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == f"/tickets/{ticket['id']}"
    assert "Taxi to the airport" in shown.text


async def test_a_wrong_password_keeps_the_page_to_come_back_to(client, factory):
    alice = await factory.employee()
    ticket = await factory.ticket(alice)
    login = (await client.get(f"/tickets/{ticket['id']}")).headers["location"]

    wrong = await _log_in_from(client, login, alice.email, "wrong-password")
    form = {
        "email": alice.email,
        "password": PASSWORD,
        "csrf_token": csrf_from(wrong),
        "next": f"/tickets/{ticket['id']}",
    }
    right = await client.post("/", data=form)

    assert wrong.status_code == 401
    assert f'name="next" value="/tickets/{ticket["id"]}"' in wrong.text
    assert right.headers["location"] == f"/tickets/{ticket['id']}"


EMPLOYEE_AT_PAGES = ("employee", "/", "/tickets")
EMPLOYER_AT_CONSOLE = ("employer", "/admin/login", "/admin/")


@pytest.mark.parametrize(
    ("door", "wanted"),
    [
        (EMPLOYEE_AT_PAGES, "https://evil.example/tickets"),
        (EMPLOYEE_AT_PAGES, "//evil.example/tickets"),
        (EMPLOYEE_AT_PAGES, "/\\evil.example/tickets"),
        (EMPLOYEE_AT_PAGES, "javascript:alert(1)"),
        (EMPLOYEE_AT_PAGES, "/tickets@evil.example"),
        (EMPLOYEE_AT_PAGES, "/ticketsfoo"),
        (EMPLOYEE_AT_PAGES, "/admin/"),  # the console is not an employee's page
        (EMPLOYEE_AT_PAGES, "/api/users/me"),
        (EMPLOYEE_AT_PAGES, "/tickets/1\r\nSet-Cookie: x=1"),
        (EMPLOYEE_AT_PAGES, "tickets/1"),
        (EMPLOYER_AT_CONSOLE, "https://evil.example/admin/"),
        (EMPLOYER_AT_CONSOLE, "//evil.example/admin/"),
        (EMPLOYER_AT_CONSOLE, "/api/users/me"),  # neither the console nor their pages
        # Dot segments, which a browser resolves before asking (RFC 3986, 5.2.4), also
        # percent-encoded (the URL standard decodes %2e in a segment), and encoded
        # separators: each leaves the user's home once resolved.
        (EMPLOYEE_AT_PAGES, "/tickets/../admin/"),
        (EMPLOYEE_AT_PAGES, "/tickets/./../admin/"),
        (EMPLOYEE_AT_PAGES, "/tickets/1/../../api/users/me"),
        (EMPLOYEE_AT_PAGES, "/tickets/.."),
        (EMPLOYEE_AT_PAGES, "/tickets/%2e%2e/admin/"),
        (EMPLOYEE_AT_PAGES, "/tickets/.%2E/admin"),
        (EMPLOYEE_AT_PAGES, "/tickets/%2E./admin"),
        (EMPLOYEE_AT_PAGES, "/tickets/..%2fadmin"),
        (EMPLOYEE_AT_PAGES, "/tickets/..%2Fadmin"),
        (EMPLOYEE_AT_PAGES, "/tickets/..%5cadmin"),
        (EMPLOYEE_AT_PAGES, "/tickets/%2F%2Fevil.example"),
        (EMPLOYER_AT_CONSOLE, "/admin/../api/users/me"),
        (EMPLOYER_AT_CONSOLE, "/admin/%2e%2e/tickets"),
        (EMPLOYER_AT_CONSOLE, "/admin/..%2Ftickets"),
        (EMPLOYER_AT_CONSOLE, "/admin/..%5Ctickets"),
    ],
)
async def test_only_pages_under_the_users_home_are_followed(client, factory, door, wanted):
    role, login, home = door
    user = await factory.account(role)

    logged_in = await _log_in_from(client, f"{login}?next={quote(wanted)}", user.email)

    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == home


@pytest.mark.parametrize(
    ("door", "wanted", "landed"),
    [
        (EMPLOYEE_AT_PAGES, "/tickets/7/../8", "/tickets/8"),
        (EMPLOYEE_AT_PAGES, "/tickets/./8/.", "/tickets/8/"),
        # An employer's own expenses are on the pages: an email's link to one is followed.
        (EMPLOYER_AT_CONSOLE, "/tickets/8", "/tickets/8"),
        (EMPLOYER_AT_CONSOLE, "/admin/../tickets", "/tickets"),
        # Only the path is checked for encoded separators: a query may hold any.
        (
            EMPLOYER_AT_CONSOLE,
            "/admin/tickets/../payments/list?search=a%2Fb",
            "/admin/payments/list?search=a%2Fb",
        ),
    ],
)
async def test_a_page_under_the_users_home_is_followed_with_its_dot_segments_resolved(
    client, factory, door, wanted, landed
):
    role, login, _ = door
    user = await factory.account(role)

    logged_in = await _log_in_from(client, f"{login}?next={quote(wanted)}", user.email)

    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == landed


async def test_a_logged_in_visitor_of_the_login_link_goes_straight_to_the_page(client, factory):
    alice = await factory.employee()
    ticket = await factory.ticket(alice)
    await _log_in_from(client, "/", alice.email)

    again = await client.get(f"/?next=%2Ftickets%2F{ticket['id']}")

    assert again.status_code == 303
    assert again.headers["location"] == f"/tickets/{ticket['id']}"


async def test_a_form_posted_logged_out_asks_to_log_in_without_coming_back_to_it(client, factory):
    alice = await factory.employee()
    ticket = await factory.ticket(alice)

    # The CSRF check passes (a token from the login page); the session is missing.
    page = await client.get("/")
    posted = await client.post(
        f"/tickets/{ticket['id']}/comments",
        data={"body": "Hello", "csrf_token": csrf_from(page)},
    )

    assert posted.status_code == 303
    assert posted.headers["location"] == "/"


async def test_the_digests_console_link_lands_on_the_list_after_login(client, factory):
    boss = await factory.employer()
    asked = await client.get("/admin/tickets/list?status=pending")

    logged_in = await _log_in_from(client, asked.headers["location"], boss.email)
    shown = await client.get(logged_in.headers["location"])

    assert asked.status_code == 302
    assert asked.headers["location"].endswith(
        "/admin/login?next=%2Fadmin%2Ftickets%2Flist%3Fstatus%3Dpending"
    )
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == "/admin/tickets/list?status=pending"
    assert shown.status_code == 200


async def test_an_employer_at_the_pages_login_goes_to_a_console_page_asked_for(client, factory):
    boss = await factory.employer()

    logged_in = await _log_in_from(client, "/?next=%2Fadmin%2Fpayments%2Flist", boss.email)

    assert logged_in.headers["location"] == "/admin/payments/list"


async def test_a_refused_console_login_keeps_the_page_to_come_back_to(client, factory):
    boss = await factory.employer()
    browser = ConsoleBrowser(client)
    login = (await client.get("/admin/payments/list")).headers["location"]

    wrong = await _log_in_from(client, login, boss.email, "wrong-password")

    assert wrong.status_code == 401
    assert 'name="next" value="/admin/payments/list"' in wrong.text
    assert browser.session_cookie is None
