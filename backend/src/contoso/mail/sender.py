"""Delivering the outbox: each due email is claimed with its row locked (`FOR UPDATE
SKIP LOCKED`), sent, and marked sent in that row's own transaction, so any number of
senders (every worker of every replica, and `contoso send-mail`) run side by side and
never send one email twice, and one email's failure never undoes another's success.

Delivery is at least once: a sender that dies after the server accepted a message and
before its transaction committed sends it again later, with the same Message-ID, by
which receivers may recognise it.

An email the mail server refuses is recorded on its row (`attempts`, `last_error`,
`first_refused_at`) and retried after a growing pause (`backoff`); refused for longer
than GIVE_UP_AFTER (a wrong address, a mailbox that is gone), it is marked `failed_at`,
logged as an error, and tried no more. An outage is no refusal: while the server cannot
be reached the round stops, the email keeps its turn and goes as soon as the server is
back (`run_sender` waits longer between rounds meanwhile), however long it lasted. An
email whose payload its kind's schema refuses (`mail.payloads`) is marked failed at
once, the schema's complaint in `last_error`: no later try would read it better.

The employers' digest is queued here too, at most once per DIGEST_HOURS across every
sender.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Text, case, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contoso.config import Settings
from contoso.database import Database
from contoso.mail.messages import render
from contoso.mail.payloads import DigestPayload, UnreadablePayload, jsonb_of
from contoso.mail.queries import IN_STATE, EmailState
from contoso.mail.transport import MailServerDown, Outgoing, Transport, transport_for
from contoso.models import Company, MailKind, OutboxEmail, Role, Ticket, TicketStatus, User
from contoso.visibility import over_all_visible_tickets

logger = logging.getLogger(__name__)

# How often `run_sender` looks for due emails (and whether a digest is due).
SEND_INTERVAL = timedelta(seconds=5)
# While the mail server is down, the loop waits longer between rounds, up to this.
MAX_PAUSE = timedelta(minutes=5)
# Emails one round of `run_sender` sends at most, and the pause after a full round: the
# sender shares its worker with requests, so the emails of a 10,000-ticket batch go out
# at ROUND_LIMIT a second per worker instead of taking the worker for seconds (measured:
# the bench's payment batch and login storm slowed while 4,000 emails went out at once).
ROUND_LIMIT = 20
BUSY_PAUSE = timedelta(seconds=1)
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)
# How long an email may go on being refused before the sender gives up on it: as long
# as a mail server keeps a message it cannot deliver (Postfix: 5 days, Exim: 4), less
# what the relay itself will keep it. Long enough for a person to read the warnings and
# fix a setting that refuses every email (a sender address the relay does not allow).
GIVE_UP_AFTER = timedelta(days=3)
# last_error keeps the start of the error, which says what went wrong.
ERROR_CHARS = 1000


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: 30 s, 1 min, 2, 4, 8,
    16, 32 min, then every hour."""
    doublings = min(max(attempts - 1, 0), 16)  # bounded: no overflow however many
    pause: timedelta = min(FIRST_RETRY * 2**doublings, LAST_RETRY)
    return pause


@dataclass
class Delivery:
    """What a `deliver_due` call did."""

    sent: int = 0
    # Attempts that sent nothing: refused, or the server unreachable.
    failed: int = 0
    # Emails refused for GIVE_UP_AFTER, marked failed by this call.
    given_up: int = 0
    # Emails whose payload their kind's schema refuses, marked failed by this call.
    unreadable: int = 0
    # Why the mail server could not be reached, when it stopped the round.
    server_down: str | None = None


# The next email to send: due, unsent, and not being sent by another sender now.
NEXT_DUE = (
    select(OutboxEmail)
    .where(IN_STATE[EmailState.WAITING], OutboxEmail.next_attempt_at <= func.now())
    # As the partial index `ix_outbox_emails_due` reads them.
    .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
    .limit(1)
    .with_for_update(skip_locked=True)
)


async def deliver_due(
    database: Database, transport: Transport, settings: Settings, limit: int | None = None
) -> Delivery:
    """Send the due emails (all of them, or at most `limit` attempts), oldest due first,
    each in its own transaction holding its row's lock. A refused email is recorded and
    retried later (`backoff`), or given up, and the round goes on with the next; when
    the mail server cannot be reached the round stops there (`server_down`), as every
    email would fail."""
    delivery = Delivery()
    async with transport.open() as outgoing:
        while limit is None or delivery.sent + delivery.failed < limit:
            async with database.sessionmaker.begin() as session:
                email = await session.scalar(NEXT_DUE)
                if email is None:
                    break
                attempt = await _send_one(session, outgoing, email, settings)
            # Counted and logged once committed.
            _log(email, attempt)
            if attempt.error is None:
                delivery.sent += 1
                continue
            delivery.failed += 1
            if isinstance(attempt.error, MailServerDown):
                delivery.server_down = str(attempt.error)
                break
            delivery.given_up += attempt.given_up
            delivery.unreadable += attempt.unreadable
    return delivery


@dataclass(frozen=True)
class _Attempt:
    """One try at an email: its error, if any; the row's `attempts` after it; and,
    when the sender gave up on it, since when it was refused."""

    error: Exception | None
    attempts: int
    refused_since: datetime | None = None

    @property
    def unreadable(self) -> bool:
        return isinstance(self.error, UnreadablePayload)

    @property
    def given_up(self) -> bool:
        return self.refused_since is not None


async def _send_one(
    session: AsyncSession, outgoing: Outgoing, email: OutboxEmail, settings: Settings
) -> _Attempt:
    """Render and send `email` (its row locked by `session`), and record the attempt on
    the row: sent; refused (when to try again, or failed for good once it has been
    refused for GIVE_UP_AFTER); failed at once when its payload is unreadable; or, with
    the server unreachable, only why."""
    row = update(OutboxEmail).where(OutboxEmail.id == email.id)
    attempts = email.attempts + 1
    try:
        await outgoing.send(email.id, render(email, settings))
    except UnreadablePayload as exc:
        # No later try would read it better: given up now, for a person to look at.
        await session.execute(
            row.values(
                attempts=attempts, last_error=_describe(exc)[:ERROR_CHARS], failed_at=func.now()
            )
        )
        return _Attempt(exc, attempts)
    except MailServerDown as exc:
        # Not this email's fault: no attempt counted, no later turn.
        await session.execute(row.values(last_error=_describe(exc)[:ERROR_CHARS]))
        return _Attempt(exc, email.attempts)
    except Exception as exc:  # refused, or not renderable
        # SET sees the row as it was: `first` is the first refusal's time, or now.
        first = func.coalesce(OutboxEmail.first_refused_at, func.now())
        recorded = await session.execute(
            row.values(
                attempts=attempts,
                last_error=_describe(exc)[:ERROR_CHARS],
                first_refused_at=first,
                next_attempt_at=func.now() + backoff(attempts),
                failed_at=case((first <= func.now() - GIVE_UP_AFTER, func.now())),
            ).returning(OutboxEmail.first_refused_at, OutboxEmail.failed_at)
        )
        since, failed_at = recorded.one()
        return _Attempt(exc, attempts, since if failed_at is not None else None)
    await session.execute(row.values(attempts=attempts, sent_at=func.now(), last_error=None))
    return _Attempt(None, attempts)


def _log(email: OutboxEmail, attempt: _Attempt) -> None:
    about = f"email {email.id} ({email.kind}) to {email.to_address}"
    if attempt.error is None:
        logger.info("sent %s", about)
    elif attempt.unreadable:
        logger.error("gave up on %s at once: %s", about, _describe(attempt.error))
    elif attempt.given_up:
        logger.error(
            "gave up on %s, refused since %s (%d attempts): %s",
            about,
            f"{attempt.refused_since:%Y-%m-%d %H:%M %Z}",
            attempt.attempts,
            _describe(attempt.error),
        )
    elif not isinstance(attempt.error, MailServerDown):  # run_sender says it once
        logger.warning(
            "could not send %s, attempt %d; retrying in %s: %s",
            about,
            attempt.attempts,
            backoff(attempt.attempts),
            _describe(attempt.error),
        )


def _describe(error: Exception) -> str:
    if isinstance(error, MailServerDown):
        return f"mail server unreachable: {error}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


async def queue_digest(database: Database, settings: Settings) -> int:
    """Queue the digest of the tickets waiting for a decision, one email to each active
    employer who takes emails, if something waits and none went in the last
    DIGEST_HOURS; how many emails were queued. Senders that race claim the company's
    `last_digest_at` with one conditional UPDATE: one of them queues the digest."""
    waiting = over_all_visible_tickets(literal(1)).where(Ticket.status == TicketStatus.PENDING)
    since = func.now() - timedelta(hours=settings.digest_hours)
    async with database.sessionmaker.begin() as session:
        claimed = await session.scalar(
            update(Company)
            .where(
                or_(Company.last_digest_at.is_(None), Company.last_digest_at <= since),
                waiting.exists(),
            )
            .values(last_digest_at=func.now())
            .returning(Company.currency)
        )
        if claimed is None:
            return 0
        figures = (
            over_all_visible_tickets(
                func.count().label("waiting"),
                func.sum(Ticket.company_amount).label("total"),
                func.min(Ticket.created_at).label("oldest_filed_at"),
                func.min(Ticket.spent_on).label("oldest_spent_on"),
            )
            .where(Ticket.status == TicketStatus.PENDING)
            .subquery("figures")
        )
        payload = jsonb_of(
            DigestPayload,
            {
                "count": figures.c.waiting,
                "total": figures.c.total,
                "company_currency": literal(claimed, Text),
                "oldest_filed_at": figures.c.oldest_filed_at,
                "oldest_spent_on": figures.c.oldest_spent_on,
            },
        )
        employers = (
            select(literal(MailKind.DIGEST, OutboxEmail.kind.type), User.id, User.email, payload)
            .select_from(User)
            .join(figures, literal(True))
            .where(
                User.role == Role.EMPLOYER,
                User.suspended.is_(False),
                User.email_notifications,
            )
            .order_by(User.id)
        )
        queued = await session.execute(
            insert(OutboxEmail)
            .from_select(["kind", "user_id", "to_address", "payload"], employers)
            .returning(OutboxEmail.id)
        )
        count = len(queued.all())
    if count:
        logger.info("queued the digest of tickets waiting for a decision to %d employers", count)
    return count


async def count_unsent(database: Database) -> int:
    """How many emails wait to be sent (due now or later), given up ones not counted."""
    async with database.read_sessionmaker() as session:
        waiting = select(func.count()).where(IN_STATE[EmailState.WAITING])
        return await session.scalar(waiting) or 0


async def retry_failed(database: Database) -> int:
    """Give every email the sender gave up on another GIVE_UP_AFTER of tries, due now
    (once a setting that refused them is fixed); how many."""
    async with database.sessionmaker.begin() as session:
        retried = await session.execute(
            update(OutboxEmail)
            .where(IN_STATE[EmailState.FAILED])
            .values(failed_at=None, first_refused_at=None, next_attempt_at=func.now())
            .returning(OutboxEmail.id)
        )
        return len(retried.all())


async def run_sender(
    database: Database,
    settings: Settings,
    stop: asyncio.Event,
    every: timedelta | None = None,
    transport: Transport | None = None,
) -> None:
    """Until `stop` is set: every `every` (SEND_INTERVAL), queue the digest when due
    and deliver what is due. Problems are logged once until they clear, never raised:
    the app outlives a mail server or database outage, and mail goes out once they are
    back (the pause between rounds grows to MAX_PAUSE while they last)."""
    every = every or SEND_INTERVAL
    transport = transport or transport_for(settings)
    # A production without a mail server keeps its emails in files nobody reads.
    unsent = settings.is_production and settings.smtp_server is None
    logger.log(logging.WARNING if unsent else logging.INFO, "emails go to %s", transport.describe())
    trouble: str | None = None
    pause = every
    while not stop.is_set():
        try:
            await queue_digest(database, settings)
            delivery = await deliver_due(database, transport, settings, ROUND_LIMIT)
        except Exception as exc:  # the database is down, most likely: try again later
            problem: str | None = f"cannot deliver emails: {type(exc).__name__}: {exc}"
            delivery = Delivery()
        else:
            problem = delivery.server_down and f"mail server unreachable: {delivery.server_down}"
        if problem and not trouble:
            logger.warning("%s; retrying while it lasts", problem)
        elif trouble and not problem:
            logger.info("emails are being delivered again")
        trouble = problem
        pause = min(pause * 2, MAX_PAUSE) if problem else every
        if not problem and delivery.sent + delivery.failed >= ROUND_LIMIT:
            pause = BUSY_PAUSE  # more are due: soon, but not at once
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause.total_seconds())
