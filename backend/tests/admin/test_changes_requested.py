"""Sending tickets back for changes from the console, and talking about a ticket on its
page: the confirmation with its required note, single and bulk, what is skipped and why,
the request and the comments on the ticket's page, and the words of the logs."""

import re

from sqlalchemy import text

from contoso.tickets.workflow import STATUSES, TRANSITIONS, Actor
from tests.support.forms import csrf_from
from tests.web.pages import words

NOTE = "Please attach the parking receipt <b>itself</b>."


async def _status(client, owner, ticket) -> str:
    seen = await client.get(f"/api/tickets/{ticket['id']}", headers=owner.headers)
    return seen.json()["status"]


async def _flagged_ticket(client, factory, boss, owner) -> dict:
    """A ticket flagged `receipt_missing`: its category wants a receipt whatever the amount."""
    parking = await client.post(
        "/api/categories",
        json={"name": "Parking", "receipt_required_above": "0"},
        headers=boss.headers,
    )
    ticket = await factory.ticket(owner, category_id=parking.json()["id"], links=[])
    assert ticket["flags"] == ["receipt_missing"]
    return ticket


def _note_error(page: str) -> str:
    match = re.search(r'<div class="invalid-feedback" id="decision-note-error">(.*?)</div>', page)
    assert match, "no error beside the note"
    return words(match.group(1))


async def test_a_flagged_ticket_is_sent_back_from_its_page_with_a_required_note(
    browser, factory, client
):
    alice, boss = await factory.employee(username="Alice"), await factory.employer(username="Boss")
    ticket = await _flagged_ticket(client, factory, boss, alice)
    await browser.login_as(boss)
    detail = await browser.client.get(f"/admin/tickets/details/{ticket['id']}")
    url = re.search(r'href="([^"]*/action/request-changes\?[^"]*)"', detail.text).group(1)

    confirm = await browser.client.get(url.replace("&amp;", "&"))
    fields = {"pks": str(ticket["id"]), "opened": "1", "csrf_token": csrf_from(confirm)}
    blank = await browser.client.post(url, data=fields | {"note": "  \n "})
    sent = await browser.client.post(url, data=fields | {"note": NOTE})
    listed = await browser.client.get(sent.headers["location"])
    after = await browser.client.get(f"/admin/tickets/details/{ticket['id']}")

    assert "Send 1 ticket back for changes?" in confirm.text
    assert re.search(r'<textarea id="decision-note" name="note"[^>]* required', confirm.text)
    assert blank.status_code == 400
    assert _note_error(blank.text).startswith("Say what should change")
    assert sent.status_code == 303
    assert "Sent 1 ticket back for changes." in listed.text
    seen = (await client.get(f"/api/tickets/{ticket['id']}", headers=alice.headers)).json()
    assert (seen["status"], seen["changes_note"]) == ("changes_requested", NOTE)
    # The page says who asked for what, escaped, and offers no decision until resubmitted.
    request = words(after.text.split('id="changes-requested">')[1].split("</div></div>")[0])
    assert request.startswith("Sent back for changes by Boss, ")
    assert "UTC: " + NOTE in request
    assert "It can be decided once Alice resubmits it." in request
    assert "<b>itself</b>" not in after.text
    assert 'id="decide"' not in after.text
    assert "Changes requested" in after.text  # the history, in words


async def test_a_blank_note_keeps_the_ticket_pending_and_a_long_one_is_kept_to_fix(
    browser, factory, client
):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    await browser.login_as(boss)

    empty = await browser.confirm("tickets", "request-changes", [ticket["id"]], note="")
    long = await browser.confirm("tickets", "request-changes", [ticket["id"]], note="x" * 1001)

    assert empty.status_code == long.status_code == 400
    assert _note_error(empty.text).startswith("Say what should change")
    assert "at most 1000 characters" in _note_error(long.text)
    assert "x" * 1001 in long.text  # as typed, to shorten rather than retype
    assert await _status(client, alice, ticket) == "pending"


async def test_a_bulk_request_for_changes_reports_each_skipped_ticket_with_why(
    browser, factory, client, app
):
    alice, bob = await factory.employee(), await factory.employee()
    boss = await factory.employer()
    pending = await factory.ticket(alice)
    flagged = await _flagged_ticket(client, factory, boss, alice)
    approved = await factory.ticket(alice)
    await client.post(f"/api/tickets/{approved['id']}/approve", headers=boss.headers)
    sent_back = await factory.ticket(alice)
    await client.post(
        f"/api/tickets/{sent_back['id']}/request-changes",
        json={"note": "Which client?"},
        headers=boss.headers,
    )
    hidden = await factory.ticket(bob)
    await client.post(f"/api/employees/{bob.id}/suspend", headers=boss.headers)
    ids = [pending["id"], flagged["id"], approved["id"], sent_back["id"], hidden["id"]]
    await browser.login_as(boss)

    confirm = await browser.client.get(
        "/admin/tickets/action/request-changes", params={"pks": ",".join(map(str, ids))}
    )
    response = await browser.confirm("tickets", "request-changes", ids, note="Add receipts")
    listed = await browser.client.get(response.headers["location"])

    assert "Send 4 tickets back for changes?" in confirm.text  # the hidden one is not shown
    assert "changes requested (will be skipped)" in confirm.text
    assert "approved (will be skipped)" in confirm.text
    assert response.status_code == 303
    assert (
        "Sent 2 tickets back for changes; 3 skipped: 1 already decided, "
        "1 already sent back for changes, 1 not found or hidden." in listed.text
    )
    statuses = [await _status(client, alice, t) for t in (pending, flagged, approved, sent_back)]
    assert statuses == ["changes_requested", "changes_requested", "approved", "changes_requested"]
    async with app.state.database.engine.connect() as connection:
        rounds = await connection.scalar(
            text("SELECT count(*) FROM events WHERE kind = 'ticket_changes_requested'")
        )
    assert rounds == 3  # the earlier round and this one's two


async def test_a_ticket_sent_back_is_not_decided_from_the_list_or_its_page(
    browser, factory, client
):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    await client.post(
        f"/api/tickets/{ticket['id']}/request-changes",
        json={"note": "Which client?"},
        headers=boss.headers,
    )
    await browser.login_as(boss)

    bulk = await browser.confirm("tickets", "approve", [ticket["id"]])
    bulk_result = await browser.client.get(bulk.headers["location"])
    opened = await browser.confirm("tickets", "deny", [ticket["id"]], opened="1")
    opened_result = await browser.client.get(opened.headers["location"])

    assert (
        "Approved 0 tickets; 1 skipped: 1 sent back for changes (decided once resubmitted)."
        in bulk_result.text
    )
    assert "it can be decided once its owner resubmits it" in opened_result.text
    assert await _status(client, alice, ticket) == "changes_requested"


async def test_the_list_filters_the_tickets_sent_back_and_offers_the_action(
    browser, factory, client
):
    alice, boss = await factory.employee(), await factory.employer()
    await factory.ticket(alice, description="Still pending")
    ticket = await factory.ticket(alice, description="Sent back")
    await client.post(
        f"/api/tickets/{ticket['id']}/request-changes",
        json={"note": "Which client?"},
        headers=boss.headers,
    )
    await browser.login_as(boss)

    listed = await browser.client.get("/admin/tickets/list?status=changes_requested")
    everything = (await browser.client.get("/admin/tickets/list")).text

    choices = re.findall(r'href="[^"]*\?status=(\w+)"[^>]*>\s*([^<]*?)\s*</a>', everything)
    # Every status, in the declared order (the order a ticket goes through them).
    assert choices == [("__all", "All")] + [
        (status.value, status.value.replace("_", " ").capitalize()) for status in STATUSES
    ]
    assert [status.value for status in STATUSES][:2] == ["pending", "changes_requested"]
    assert "Sent back" in listed.text and "Still pending" not in listed.text
    assert 'badge bg-purple-lt status">' in listed.text
    # The actions menu, in the order a reviewer reaches for them.
    actions = re.findall(r'id="action-custom-([\w-]+)"', everything)
    assert actions == [t.slug for t in TRANSITIONS.values() if t.by is Actor.EMPLOYER]
    assert actions[:3] == ["approve", "deny", "request-changes"] and actions[-1] == "pay"


async def test_comments_are_listed_oldest_first_escaped_and_added_from_the_page(
    browser, factory, client, app
):
    alice, boss = await factory.employee(username="Alice"), await factory.employer(username="Boss")
    ticket = await factory.ticket(alice)
    await client.post(
        f"/api/tickets/{ticket['id']}/comments",
        json={"body": "<script>alert(1)</script>\nSecond line"},
        headers=alice.headers,
    )
    await browser.login_as(boss)
    page = await browser.client.get(f"/admin/tickets/details/{ticket['id']}")
    action = re.search(r'<form[^>]*action="([^"]*/comments)"', page.text).group(1)
    token = csrf_from(page)

    forged = await browser.client.post(action, data={"body": "No token"})
    blank = await browser.client.post(action, data={"body": "   ", "csrf_token": token})
    refused = await browser.client.get(blank.headers["location"])
    added = await browser.client.post(
        action, data={"body": "Which receipt is <i>this</i>?", "csrf_token": token}
    )
    after = await browser.client.get(added.headers["location"].split("#")[0])

    assert action == f"/admin/tickets/{ticket['id']}/comments"
    assert forged.status_code == 403
    assert blank.status_code == 303
    assert "The comment must not be blank" in refused.text
    assert added.status_code == 303
    assert added.headers["location"].endswith(f"/admin/tickets/details/{ticket['id']}#comments")
    comments = re.findall(
        r'class="comment-author"><bdi>([^<]*)</bdi></strong>.*?'
        r'class="keep-lines comment-body" dir="auto">(.*?)</div>',
        after.text,
        re.S,
    )
    assert comments == [
        ("Alice", "&lt;script&gt;alert(1)&lt;/script&gt;\nSecond line"),
        ("Boss", "Which receipt is &lt;i&gt;this&lt;/i&gt;?"),
    ]
    assert "<script>alert(1)</script>" not in after.text
    listed = await client.get(f"/api/tickets/{ticket['id']}/comments", headers=alice.headers)
    assert [c["body"] for c in listed.json()][1] == "Which receipt is <i>this</i>?"
    # In the history, in words, with the comment as its note.
    history = after.text.split(">History<")[1]
    assert history.count("<td>Comment</td>") == 2


async def test_a_comment_on_a_hidden_ticket_is_a_404(browser, factory, client):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    await browser.login_as(boss)
    page = await browser.client.get(f"/admin/tickets/details/{ticket['id']}")
    await client.post(f"/api/employees/{alice.id}/suspend", headers=boss.headers)

    response = await browser.client.post(
        f"/admin/tickets/{ticket['id']}/comments",
        data={"body": "Anyone there?", "csrf_token": csrf_from(page)},
    )

    assert response.status_code == 404


async def test_the_logs_name_requests_for_changes_and_resubmissions_in_words(
    browser, factory, client
):
    alice, boss = await factory.employee(), await factory.employer()
    ticket = await factory.ticket(alice)
    url = f"/api/tickets/{ticket['id']}"
    await client.post(f"{url}/request-changes", json={"note": "Which?"}, headers=boss.headers)
    await client.post(f"{url}/resubmit", headers=alice.headers)
    await client.post(f"{url}/comments", json={"body": "Done"}, headers=alice.headers)
    await browser.login_as(boss)

    audit = (await browser.client.get("/admin/audit-log/list")).text
    page = (await browser.client.get(f"/admin/tickets/details/{ticket['id']}")).text

    kinds = re.findall(r'<td class="column-kind">\s*(.*?)\s*</td>', audit, re.S)
    assert kinds == ["Ticket resubmitted", "Changes requested"]  # comments are not audited
    history = re.findall(r"<td>([^<]*)</td>\s*<td>\s*<span", page.split(">History<")[1])
    assert history == ["Filed", "Changes requested", "Resubmitted", "Comment"]


async def test_an_employers_own_ticket_offers_no_decision_in_the_console(browser, factory, client):
    boss, other_boss = await factory.employer(), await factory.employer()
    own = await factory.ticket(boss, description="Hotel at the fair")
    await browser.login_as(boss)

    page = await browser.client.get(f"/admin/tickets/details/{own['id']}")
    listed = await browser.client.get("/admin/tickets/list")

    assert page.status_code == 200
    assert 'id="own-ticket"' in page.text and "/action/approve" not in page.text
    assert "Hotel at the fair" in listed.text  # among everyone's, as any ticket
    # Chosen in the list with another's, it is left alone, saying why.
    alice = await factory.employee()
    theirs = await factory.ticket(alice)
    pks = f"{own['id']},{theirs['id']}"
    confirm = await browser.client.get(f"/admin/tickets/action/approve?pks={pks}")
    done = await browser.client.post(
        "/admin/tickets/action/approve", data={"pks": pks, "csrf_token": csrf_from(confirm)}
    )
    result = await browser.client.get(done.headers["location"])
    assert "your own (another employer acts on it)" in words(confirm.text) + words(result.text)
    assert await _status(client, alice, theirs) == "approved"
    await browser.login_as(other_boss)
    theirs = await browser.client.get(f"/admin/tickets/details/{own['id']}")
    assert "/action/approve" in theirs.text and 'id="own-ticket"' not in theirs.text
