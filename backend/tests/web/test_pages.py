"""The employee pages over HTTP: the Login / Register flow, My tickets, and their guards."""

from datetime import date

from tests.support.factories import PASSWORD
from tests.support.forms import csrf_from, submit_form
from tests.web.test_receipt_pages import file_from_page

TODAY = date.today().isoformat()


async def _register(client, email, role="employee", username="Dana", password=PASSWORD):
    first = await submit_form(client, "/", {"email": email, "password": password})
    assert first.status_code == 200, first.text
    assert "Create your account" in first.text
    return await client.post(
        "/register",
        data={
            "username": username,
            "role": role,
            "password": password,
            "csrf_token": csrf_from(first),
        },
    )


async def test_a_new_email_registers_in_two_steps_and_lands_on_my_tickets(client):
    response = await _register(client, "Dana@Example.com")

    assert response.status_code == 303
    assert response.headers["location"] == "/tickets"
    page = await client.get("/tickets")
    assert "My tickets" in page.text
    assert "dana@example.com" in page.text


async def test_an_employer_registers_and_lands_in_the_console_already_logged_in(client):
    response = await _register(client, "boss@example.com", role="employer", username="Boss")

    assert response.headers["location"] == "/admin/"
    console = await client.get("/admin/")
    assert console.status_code == 200
    assert "Pending tickets" in console.text


async def test_the_second_step_needs_the_same_password_and_keeps_what_was_typed(client):
    first = await submit_form(client, "/", {"email": "eve@example.com", "password": PASSWORD})

    response = await client.post(
        "/register",
        data={
            "username": "Eve",
            "role": "employee",
            "password": "something else",
            "csrf_token": csrf_from(first),
        },
    )

    assert response.status_code == 400
    assert "not the password you typed" in response.text
    assert 'value="Eve"' in response.text
    assert (await client.get("/tickets")).status_code == 303  # not logged in


async def test_existing_users_log_in_and_wrong_passwords_are_refused(client, factory):
    alice = await factory.employee()

    wrong = await submit_form(client, "/", {"email": alice.email, "password": "wrong-password"})
    right = await submit_form(client, "/", {"email": alice.email, "password": PASSWORD})

    assert wrong.status_code == 401  # as the API answers a wrong password
    assert "Incorrect email or password." in wrong.text
    assert f'value="{alice.email}"' in wrong.text
    assert right.status_code == 303
    assert right.headers["location"] == "/tickets"


async def test_a_suspended_user_is_told_so_at_login(client, factory):
    alice, boss = await factory.employee(), await factory.employer()
    await client.post(f"/api/employees/{alice.id}/suspend", headers=boss.headers)

    response = await submit_form(client, "/", {"email": alice.email, "password": PASSWORD})

    assert response.status_code == 403
    assert "This account is suspended" in response.text


async def test_a_short_password_for_a_new_email_is_refused_on_the_first_step(client):
    response = await submit_form(client, "/", {"email": "new@example.com", "password": "short"})
    assert response.status_code == 400
    assert "at least 8 characters" in response.text


async def test_filing_a_ticket_from_the_page(client, factory):
    await _register(client, "dana@example.com")

    response = await submit_form(
        client,
        "/tickets",
        {
            "spent_on": TODAY,
            "amount": "19.90",
            "description": "Taxi",
            "links": "https://a.example.com/1\n\nhttps://b.example.com/2\n",
        },
    )
    page = await client.get(response.headers["location"])

    assert response.status_code == 303
    assert "filed: $19.90 for Taxi" in page.text
    assert "https://b.example.com/2" in page.text
    assert "pending" in page.text


async def test_invalid_tickets_show_errors_next_to_fields_and_keep_the_input(client, factory):
    await _register(client, "dana@example.com")

    response = await submit_form(
        client,
        "/tickets",
        {
            "spent_on": "2999-01-01",
            # The form sends its currency: the amount is checked against its decimals.
            "currency": "EUR",
            "amount": "12.345",
            "description": "Lunch <b>",
            "links": "javascript:alert(1)",
        },
    )

    assert response.status_code == 400
    assert 'id="error-spent_on"' in response.text and "cannot be in the future" in response.text
    assert 'id="error-amount"' in response.text
    assert "Amounts in EUR have at most 2 decimal places" in response.text
    assert 'id="error-links"' in response.text
    assert 'value="12.345"' in response.text
    assert '<option value="EUR" selected>EUR — Euro</option>' in response.text
    assert "Lunch &lt;b&gt;" in response.text  # kept, and escaped
    assert "No tickets yet" in response.text


async def test_a_pending_ticket_can_be_edited_and_a_decided_one_cannot(client, factory):
    boss = await factory.employer()
    await _register(client, "dana@example.com")
    await submit_form(
        client,
        "/tickets",
        {"spent_on": TODAY, "amount": "10", "description": "Lunch", "links": ""},
    )
    me = await client.get("/tickets")
    ticket_id = int(me.text.split('data-ticket-id="')[1].split('"')[0])

    edited = await submit_form(
        client,
        f"/tickets/{ticket_id}/edit",
        {"spent_on": TODAY, "amount": "11.00", "description": "Lunch, two", "links": ""},
    )
    await client.post(f"/api/tickets/{ticket_id}/approve", headers=boss.headers)
    decided = await client.get(f"/tickets/{ticket_id}/edit")

    assert edited.status_code == 303
    assert "Lunch, two" in (await client.get("/tickets")).text
    assert "already approved; it can no longer be edited" in decided.text
    assert 'action="/tickets/' not in decided.text


async def test_someone_elses_ticket_is_not_found(client, factory):
    alice = await factory.employee()
    ticket = await factory.ticket(alice)
    await _register(client, "dana@example.com")

    response = await client.get(f"/tickets/{ticket['id']}/edit")

    assert response.status_code == 404
    assert f"Ticket {ticket['id']} not found." in response.text


async def test_the_next_click_after_suspension_is_refused(client, factory):
    boss = await factory.employer()
    await _register(client, "dana@example.com")
    me = (await client.get("/api/employees", headers=boss.headers)).json()["items"][0]
    await client.post(f"/api/employees/{me['id']}/suspend", headers=boss.headers)

    response = await client.get("/tickets", follow_redirects=True)

    assert "Log in or register" in response.text
    assert "This account is suspended" in response.text


async def test_logout_is_a_post_with_a_token(client):
    await _register(client, "dana@example.com")
    page = await client.get("/tickets")

    forged = await client.post("/logout")
    assert forged.status_code == 403
    response = await client.post("/logout", data={"csrf_token": csrf_from(page)})

    assert response.status_code == 303
    assert (await client.get("/tickets")).status_code == 303


async def test_the_session_is_rotated_at_login_from_the_pages(client, factory):
    alice = await factory.employee()
    # A session that exists before login: a registration begun (anonymous views have none).
    await submit_form(client, "/", {"email": "new@example.com", "password": PASSWORD})
    before = client.cookies.get("contoso_session")

    await submit_form(client, "/", {"email": alice.email, "password": PASSWORD})

    assert before and client.cookies.get("contoso_session") != before


async def test_pages_refuse_cross_site_posts(client, factory):
    page = await client.get("/")
    response = await client.post(
        "/",
        data={"email": "x@example.com", "password": PASSWORD, "csrf_token": csrf_from(page)},
        headers={"Origin": "https://evil.example.com"},
    )
    assert response.status_code == 403


async def test_employers_file_their_own_expenses_on_the_pages(client, factory):
    alice = await factory.employee()
    await factory.ticket(alice, description="Alice's taxi")
    await _register(client, "boss@example.com", role="employer")
    page = await client.get("/tickets")
    filed = await file_from_page(client, page=page, description="Lunch with a supplier")
    mine = await client.get("/tickets")

    assert page.status_code == 200 and 'id="console-link"' in page.text
    assert filed.status_code == 303, filed.text
    # Their own tickets only: the console is where they see everyone's.
    assert "Lunch with a supplier" in mine.text
    assert "Alice&#39;s taxi" not in mine.text and "Alice's taxi" not in mine.text


async def test_a_missing_page_or_ticket_is_an_html_page(client, factory):
    alice, bob = await factory.employee(), await factory.employee()
    bobs = await factory.ticket(bob)
    await submit_form(client, "/", {"email": alice.email, "password": PASSWORD})

    others = await client.get(f"/tickets/{bobs['id']}/edit")
    garbage = await client.get("/tickets/not-a-number/edit")
    nowhere = await client.get("/no/such/page")

    for response in (others, garbage, nowhere):
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
    assert f"Ticket {bobs['id']} not found." in others.text
    assert "There is no such page" in nowhere.text
