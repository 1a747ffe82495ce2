"""Delivery as it runs: inside `contoso serve` (the app's lifespan) and as
`contoso send-mail`."""

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, text, update

from contoso import main
from contoso.config import Settings
from contoso.database import Database, create_database
from contoso.mail import sender
from contoso.mail.sender import run_sender
from contoso.models import OutboxEmail
from tests.mail.conftest import Inbox, SmtpServer, outbox, settings_for
from tests.support.databases import plain_url
from tests.support.servers import contoso_env, free_port, run_contoso


async def _wait_for(condition, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.02)):
        if await condition():
            return
        await asyncio.sleep(0.02)
    pytest.fail("waited in vain")


async def _digest_sent_just_now(database: Database) -> None:
    async with database.engine.begin() as connection:
        await connection.execute(text("UPDATE company SET last_digest_at = now()"))


async def test_the_running_app_delivers_a_decision_made_while_the_mail_server_was_down(
    factory,
    database: Database,
    settings: Settings,
    smtp_server: SmtpServer,
    inbox: Inbox,
    monkeypatch,
):
    monkeypatch.setattr(sender, "SEND_INTERVAL", timedelta(milliseconds=50))
    employer = await factory.employer()
    alice = await factory.employee()
    ticket = await factory.ticket(alice)
    await _digest_sent_just_now(database)
    smtp_server.stop()
    # An app of its own: its lifespan (which starts the sender) runs in this test.
    running = main.create_app(settings_for(settings, smtp_server.url))

    async def attempted() -> bool:
        return any(row.last_error for row in await outbox(database))

    async def sent() -> bool:
        return all(row.sent_at for row in await outbox(database))

    async with running.router.lifespan_context(running):
        decided = await factory.client.post(
            f"/api/tickets/{ticket['id']}/approve", json={}, headers=employer.headers
        )
        await _wait_for(attempted)
        smtp_server.start()
        await _wait_for(sent)  # at once: an outage does not push the email back
        await asyncio.sleep(0.2)  # more rounds: nothing more goes
    await running.state.database.dispose()

    assert decided.status_code == 200
    assert [mail.recipients for mail in inbox.received] == [[alice.email]]


async def test_the_sender_outlives_a_database_outage_and_says_so_once(settings: Settings, caplog):
    nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none"
    unreachable = settings.model_copy(update={"database_url": nowhere, "db_timeout": 1.0})
    database = create_database(unreachable)
    stop = asyncio.Event()
    caplog.set_level(logging.INFO, logger="contoso.mail")

    running = asyncio.create_task(
        run_sender(database, unreachable, stop, timedelta(milliseconds=20))
    )
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.wait_for(running, 5)
    await database.dispose()

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "cannot deliver emails" in warnings[0].getMessage()


def test_send_mail_with_nothing_due_says_so(database_url: str, tmp_path: Path):
    env = contoso_env(tmp_path, plain_url(database_url))

    nothing = run_contoso(["send-mail"], env)

    assert nothing.returncode == 0, nothing.stderr
    outbox_dir = tmp_path / "data" / "outbox"
    assert f"0 emails sent to files in {outbox_dir}/" in nothing.stdout


async def test_send_mail_sends_and_reports_an_unreachable_server(
    factory, database: Database, database_url: str, tmp_path: Path
):
    employer = await factory.employer()
    alice, bob = await factory.employee(), await factory.employee()
    ids = [(await factory.ticket(alice))["id"], (await factory.ticket(bob))["id"]]
    await factory.client.post(
        "/api/tickets/decisions",
        json={"ticket_ids": ids, "decision": "approve"},
        headers=employer.headers,
    )
    env = contoso_env(tmp_path, plain_url(database_url))
    down = env | {"SMTP_URL": f"smtp://127.0.0.1:{free_port()}"}

    failed = await asyncio.to_thread(run_contoso, ["send-mail"], down)
    sent = await asyncio.to_thread(run_contoso, ["send-mail"], env)

    assert failed.returncode == 1
    assert "The mail server cannot be reached" in failed.stderr
    assert "2 emails wait for a later attempt." in failed.stderr
    assert sent.returncode == 0, sent.stderr
    # Both, at once: the outage was no refusal, and pushed neither back.
    assert "2 emails sent to files in" in sent.stdout
    assert "wait" not in sent.stdout
    assert len(list((tmp_path / "data" / "outbox").glob("*.eml"))) == 2


async def test_send_mail_retry_failed_gives_given_up_emails_another_try(
    factory, database: Database, database_url: str, tmp_path: Path
):
    employer, alice = await factory.employer(), await factory.employee()
    ticket = await factory.ticket(alice)
    await factory.client.post(
        f"/api/tickets/{ticket['id']}/approve", json={}, headers=employer.headers
    )
    async with database.sessionmaker.begin() as session:
        await session.execute(
            update(OutboxEmail).values(
                attempts=80, first_refused_at=func.now(), failed_at=func.now(), last_error="550"
            )
        )
    env = contoso_env(tmp_path, plain_url(database_url))

    plain = await asyncio.to_thread(run_contoso, ["send-mail"], env)
    retried = await asyncio.to_thread(run_contoso, ["send-mail", "--retry-failed"], env)

    assert "0 emails sent" in plain.stdout  # given up: not tried by a plain round
    assert retried.returncode == 0, retried.stderr
    assert "1 email given up on earlier queued again." in retried.stdout
    assert "1 email sent to files in" in retried.stdout
    [row] = await outbox(database)
    assert row.sent_at is not None and row.failed_at is None and row.first_refused_at is None
