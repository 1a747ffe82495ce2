"""An employer's comment reaches the ticket's owner by email; the owner's own comments,
and comments nobody may make, send nothing."""

from contoso.config import Settings
from contoso.database import Database
from contoso.mail.sender import deliver_due
from contoso.mail.transport import transport_for
from tests.mail.conftest import PUBLIC_URL, Inbox, outbox, set_notifications
from tests.support.factories import Factory

QUESTION = 'Which client was this for? <b>Not "Acme"</b>, I hope & trust'


async def _comment(factory: Factory, account, ticket_id: int, body: str) -> int:
    response = await factory.client.post(
        f"/api/tickets/{ticket_id}/comments", json={"body": body}, headers=account.headers
    )
    return response.status_code


async def test_an_employers_comment_is_emailed_to_the_owner_once(
    factory: Factory, database: Database, mail_settings: Settings, inbox: Inbox
):
    grace, alice = await factory.employer(username="Grace"), await factory.employee()
    ticket = await factory.ticket(alice, description="Dinner in Lyon")

    asked = await _comment(factory, grace, ticket["id"], QUESTION)
    await deliver_due(database, transport_for(mail_settings), mail_settings)
    await deliver_due(database, transport_for(mail_settings), mail_settings)

    assert asked == 201
    [mail] = inbox.received
    assert mail.recipients == [alice.email]
    assert mail.message["Subject"] == f"New comment on ticket #{ticket['id']}"
    assert f"Grace commented on your ticket #{ticket['id']}." in mail.text
    assert QUESTION in mail.text
    assert f"{PUBLIC_URL}/tickets/{ticket['id']}" in mail.text
    # What the employer typed is text in the HTML part, never markup.
    assert "&lt;b&gt;Not &#34;Acme&#34;&lt;/b&gt;, I hope &amp; trust" in mail.html
    assert "<b>Not" not in mail.html


async def test_the_owners_comment_and_a_refused_one_send_nothing(
    factory: Factory, database: Database
):
    alice, bob = await factory.employee(), await factory.employee()
    ticket = await factory.ticket(alice)

    own = await _comment(factory, alice, ticket["id"], "The receipt is attached.")
    other = await _comment(factory, bob, ticket["id"], "Not my ticket")

    assert (own, other) == (201, 404)
    assert await outbox(database) == []


async def test_an_owner_who_turned_emails_off_gets_no_comment_email(
    factory: Factory, database: Database
):
    grace, alice = await factory.employer(), await factory.employee()
    ticket = await factory.ticket(alice)
    await set_notifications(database, alice.id, False)

    asked = await _comment(factory, grace, ticket["id"], "Which client?")

    assert asked == 201
    assert await outbox(database) == []
