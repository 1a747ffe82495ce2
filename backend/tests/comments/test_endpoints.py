"""Comments on a ticket: by its owner and employers, oldest first, never edited."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError


async def test_comments_by_the_owner_and_an_employer_in_order(client, factory):
    boss, alice, bob = await factory.employer(), await factory.employee(), await factory.employee()
    ticket = await factory.ticket(alice)
    url = f"/api/tickets/{ticket['id']}/comments"

    first = await client.post(url, json={"body": "Which receipt?"}, headers=alice.headers)
    second = await client.post(url, json={"body": "The <b>hotel</b> one"}, headers=boss.headers)
    stranger = await client.post(url, json={"body": "hi"}, headers=bob.headers)
    listed = await client.get(url, headers=alice.headers)

    assert (first.status_code, second.status_code, stranger.status_code) == (201, 201, 404)
    assert [(c["author"]["id"], c["body"]) for c in listed.json()] == [
        (alice.id, "Which receipt?"),
        (boss.id, "The <b>hotel</b> one"),
    ]


async def test_comments_are_refused_blank_and_kept_in_the_history(client, factory):
    alice = await factory.employee()
    ticket = await factory.ticket(alice)
    url = f"/api/tickets/{ticket['id']}"

    blank = await client.post(f"{url}/comments", json={"body": "  "}, headers=alice.headers)
    await client.post(
        f"{url}/comments", json={"body": "Lunch with the client"}, headers=alice.headers
    )
    history = (await client.get(f"{url}/history", headers=alice.headers)).json()

    assert blank.status_code == 422
    assert [(entry["kind"], entry["note"]) for entry in history[1:]] == [
        ("ticket_commented", "Lunch with the client")
    ]


async def test_a_comment_cannot_be_edited_or_deleted_even_in_sql(app, client, factory):
    alice = await factory.employee()
    ticket = await factory.ticket(alice)
    await client.post(
        f"/api/tickets/{ticket['id']}/comments", json={"body": "As sent"}, headers=alice.headers
    )

    for statement in ("UPDATE ticket_comments SET body = 'changed'", "DELETE FROM ticket_comments"):
        async with app.state.database.engine.connect() as connection:
            with pytest.raises(DBAPIError, match="comments on tickets are append-only"):
                await connection.execute(text(statement))

    listed = await client.get(f"/api/tickets/{ticket['id']}/comments", headers=alice.headers)
    assert [comment["body"] for comment in listed.json()] == ["As sent"]
