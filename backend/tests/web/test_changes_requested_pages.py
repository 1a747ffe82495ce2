"""A ticket sent back for changes on the employee pages: the employer's note, editing it
and its receipts, resubmitting it; a ticket's page with its comments; and the setting
that turns emails about one's tickets off and on."""

import re

from sqlalchemy import select, text

from contoso.models import User
from tests.support.forms import csrf_from
from tests.web.pages import log_in, ticket_item, words
from tests.web.test_receipt_pages import image, ticket_form


async def _send_back(client, boss, ticket, note="Please attach the receipt.") -> None:
    response = await client.post(
        f"/api/tickets/{ticket['id']}/request-changes", json={"note": note}, headers=boss.headers
    )
    assert response.status_code == 200, response.text


async def _post_from(client, page: str, action: str, data: dict[str, str]):
    """Submit the form of `page` that posts to `action`, with the page's CSRF token."""
    shown = await client.get(page)
    assert f'action="{action}"' in shown.text
    return await client.post(action, data=data | {"csrf_token": csrf_from(shown)})


async def _set_emails(client, value: str):
    return await _post_from(
        client, "/tickets", "/tickets/settings/emails", {"email_notifications": value}
    )


async def _status(client, owner, ticket) -> str:
    seen = await client.get(f"/api/tickets/{ticket['id']}", headers=owner.headers)
    return seen.json()["status"]


async def _emails_on(app, user) -> bool:
    async with app.state.database.sessionmaker() as session:
        on = await session.scalar(select(User.email_notifications).where(User.id == user.id))
    assert on is not None
    return on


async def test_a_ticket_sent_back_shows_the_note_an_edit_link_and_a_resubmit_button(
    client, factory
):
    dana, boss = await factory.employee(), await factory.employer(username="Boss")
    ticket = await factory.ticket(dana, description="Parking")
    await _send_back(client, boss, ticket, note="Attach the <i>parking</i> receipt.")
    await log_in(client, dana)

    item = ticket_item((await client.get("/tickets")).text, ticket["id"])

    assert 'badge bg-purple-lt status">' in item
    assert "Changes requested by Boss: Attach the <i>parking</i> receipt." in words(item)
    assert "<i>parking</i>" not in item  # escaped
    assert f'href="/tickets/{ticket["id"]}/edit"' in item
    resubmit = re.search(r'<form method="POST" action="([^"]+)"[^>]*>\s*<input[^>]*csrf', item)
    assert resubmit and resubmit.group(1) == f"/tickets/{ticket['id']}/resubmit"


async def test_receipts_are_added_while_sent_back_and_resubmitting_makes_it_pending(
    client, factory, app
):
    dana, boss = await factory.employee(), await factory.employer(username="Boss")
    parking = await client.post(
        "/api/categories",
        json={"name": "Parking", "receipt_required_above": "0"},
        headers=boss.headers,
    )
    category = str(parking.json()["id"])
    ticket = await factory.ticket(dana, amount="30.00", category_id=int(category), links=[])
    await _send_back(client, boss, ticket)
    await log_in(client, dana)
    url = f"/tickets/{ticket['id']}"

    edit = await client.get(f"{url}/edit")
    saved = await client.post(
        f"{url}/edit",
        data=ticket_form(amount="30.00", category_id=category) | {"csrf_token": csrf_from(edit)},
        files=[("receipts", ("parking.jpg", image("JPEG"), "image/jpeg"))],
    )
    listed = await client.get("/tickets")
    still_sent_back = await _status(client, dana, ticket)
    resubmitted = await client.post(f"{url}/resubmit", data={"csrf_token": csrf_from(listed)})
    after = await client.get("/tickets")

    assert "Changes requested by Boss: Please attach the receipt." in words(edit.text)
    assert saved.status_code == 303
    assert "1 receipt added. It is still sent back: resubmit it when it is ready." in listed.text
    assert still_sent_back == "changes_requested"
    assert resubmitted.status_code == 303
    assert f"Ticket #{ticket['id']} resubmitted: $30.00 for Taxi waits for a decision" in (
        after.text
    )
    item = ticket_item(after.text, ticket["id"])
    assert 'status">pending<' in item
    assert "Changes requested by" not in item and "/resubmit" not in item
    assert "parking.jpg" in item and "Receipt required" not in item  # the flag is gone
    assert await _status(client, dana, ticket) == "pending"
    async with app.state.database.engine.connect() as connection:
        kinds = (
            await connection.scalars(
                text("SELECT kind::text FROM events WHERE ticket_id = :id ORDER BY id"),
                {"id": ticket["id"]},
            )
        ).all()
    assert kinds[-1] == "ticket_resubmitted" and "ticket_receipt_added" in kinds


async def test_resubmitting_a_pending_ticket_or_anothers_is_refused(client, factory):
    dana, erin, boss = await factory.employee(), await factory.employee(), await factory.employer()
    pending = await factory.ticket(dana)
    theirs = await factory.ticket(erin)
    await _send_back(client, boss, theirs)
    await log_in(client, dana)
    token = csrf_from(await client.get("/tickets"))

    again = await client.post(f"/tickets/{pending['id']}/resubmit", data={"csrf_token": token})
    forged = await client.post(f"/tickets/{pending['id']}/resubmit")
    other = await client.post(f"/tickets/{theirs['id']}/resubmit", data={"csrf_token": token})

    assert again.status_code == 409
    assert "is pending, not sent back for changes; there is nothing to resubmit" in again.text
    assert forged.status_code == 403
    assert other.status_code == 404
    assert await _status(client, erin, theirs) == "changes_requested"


async def test_a_tickets_page_lists_its_comments_and_adds_one(client, factory):
    dana, boss = await factory.employee(username="Dana"), await factory.employer(username="Boss")
    ticket = await factory.ticket(dana)
    await client.post(
        f"/api/tickets/{ticket['id']}/comments",
        json={"body": "Which <b>client</b> was it?"},
        headers=boss.headers,
    )
    await log_in(client, dana)
    url = f"/tickets/{ticket['id']}"

    listed = await client.get("/tickets")
    blank = await _post_from(client, url, f"{url}/comments", {"body": " "})
    added = await _post_from(
        client, url, f"{url}/comments", {"body": "Contoso Lyon.\nThe <i>new</i> one."}
    )
    page = await client.get(url)

    assert f'href="{url}#comments"' in ticket_item(listed.text, ticket["id"])
    assert blank.status_code == 400
    assert 'id="error-body"' in blank.text and "The comment must not be blank" in blank.text
    assert added.status_code == 303
    assert added.headers["location"] == f"{url}#comments"
    comments = re.findall(
        r'class="comment-author"><bdi>([^<]*)</bdi></strong>.*?'
        r'class="comment-body" dir="auto">(.*?)</div>',
        page.text,
        re.S,
    )
    assert comments == [
        ("Boss", "Which &lt;b&gt;client&lt;/b&gt; was it?"),
        ("Dana", "Contoso Lyon.\nThe &lt;i&gt;new&lt;/i&gt; one."),
    ]
    seen = await client.get(f"/api/tickets/{ticket['id']}/comments", headers=boss.headers)
    assert [c["body"] for c in seen.json()][1] == "Contoso Lyon.\nThe <i>new</i> one."


async def test_comments_on_anothers_ticket_or_without_a_token_are_refused(client, factory):
    dana, erin = await factory.employee(), await factory.employee()
    mine, theirs = await factory.ticket(dana), await factory.ticket(erin)
    await log_in(client, dana)
    token = csrf_from(await client.get(f"/tickets/{mine['id']}"))

    other_page = await client.get(f"/tickets/{theirs['id']}")
    other = await client.post(
        f"/tickets/{theirs['id']}/comments", data={"body": "Hi", "csrf_token": token}
    )
    forged = await client.post(f"/tickets/{mine['id']}/comments", data={"body": "Hi"})

    assert other_page.status_code == other.status_code == 404
    assert forged.status_code == 403
    for ticket, owner in ((mine, dana), (theirs, erin)):
        seen = await client.get(f"/api/tickets/{ticket['id']}/comments", headers=owner.headers)
        assert seen.json() == []


async def test_a_decided_ticket_has_a_page_for_its_comments_but_no_resubmit(client, factory):
    dana, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(dana)
    await client.post(
        f"/api/tickets/{ticket['id']}/deny", json={"note": "Not ours"}, headers=boss.headers
    )
    await log_in(client, dana)

    page = await client.get(f"/tickets/{ticket['id']}")
    url = f"/tickets/{ticket['id']}"
    added = await _post_from(client, url, f"{url}/comments", {"body": "Why not?"})

    assert page.status_code == 200
    assert "Not ours" in page.text and 'status">denied<' in page.text
    assert "/resubmit" not in page.text and "/edit" not in page.text
    assert added.status_code == 303


async def test_emails_about_ones_tickets_are_turned_off_and_on_with_a_post(client, factory, app):
    dana, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(dana)
    await log_in(client, dana)

    shown = await client.get("/tickets")
    following_a_link = await client.get("/tickets/settings/emails")
    forged = await client.post("/tickets/settings/emails", data={"email_notifications": "off"})
    on_after_forgery = await _emails_on(app, dana)
    off = await _set_emails(client, "off")
    page_when_off = await client.get(off.headers["location"])
    off_in_database = await _emails_on(app, dana)
    await _send_back(client, boss, ticket)
    on = await _set_emails(client, "on")
    page_when_on = await client.get(on.headers["location"])
    bogus = await _set_emails(client, "maybe")

    assert "Email me about my tickets: on" in words(shown.text)
    assert "Turn emails off" in shown.text
    assert following_a_link.status_code == 405
    assert forged.status_code == 403 and on_after_forgery is True
    assert off.status_code == 303 and off.headers["location"] == "/tickets"
    assert off_in_database is False
    assert "You will get no more emails about your tickets." in page_when_off.text
    assert "Email me about my tickets: off" in words(page_when_off.text)
    assert "Turn emails on" in page_when_off.text
    assert await _emails_on(app, dana) is True
    assert "You will get emails about your tickets." in page_when_on.text
    assert bogus.status_code == 400
    async with app.state.database.engine.connect() as connection:
        mails = await connection.scalar(text("SELECT count(*) FROM outbox_emails"))
    assert mails == 0  # sent back while emails were off: nothing to send


async def test_one_employees_email_setting_leaves_everyone_elses_alone(client, factory, app):
    dana, erin = await factory.employee(), await factory.employee()
    await log_in(client, dana)

    await _set_emails(client, "off")

    assert await _emails_on(app, dana) is False
    assert await _emails_on(app, erin) is True
