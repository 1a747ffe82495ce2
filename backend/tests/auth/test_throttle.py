"""The login throttle's counts, per process in memory or shared through Redis."""

import asyncio
import os
import socket
import uuid
from urllib.parse import urlsplit

import pytest

from contoso.auth.throttle import LoginThrottle
from contoso.errors import TooManyAttempts

REDIS = os.environ.get("CI_REDIS_URL", "redis://127.0.0.1:6379")
# Above any test's attempts: only the pair limit is at work.
NO_CEILING = "1000 per minute"


def _redis_storage() -> str:
    """The shared Redis's storage URI; the test is skipped without one (outside CI)."""
    address = urlsplit(REDIS)
    try:
        socket.create_connection((address.hostname, address.port or 6379), timeout=1).close()
    except OSError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {REDIS}: {exc}")
    return REDIS.replace("redis://", "async+redis://")


@pytest.fixture(params=["memory", "redis"])
def storage(request) -> str:
    return "async+memory://" if request.param == "memory" else _redis_storage()


def _email() -> str:
    # Redis outlives a test: each test's accounts are its own.
    return f"{uuid.uuid4().hex}@example.com"


async def test_attempts_past_the_limit_are_refused_with_a_retry_after(storage):
    throttle, email = LoginThrottle("3 per minute", NO_CEILING, storage), _email()
    for _ in range(3):
        await throttle.attempt(email, "10.0.0.1")

    with pytest.raises(TooManyAttempts) as refused:
        await throttle.attempt(email, "10.0.0.1")
    await throttle.attempt(email, "10.0.0.2")  # another client is not blocked

    assert 0 < refused.value.retry_after <= 60


async def test_the_eleventh_attempt_is_the_first_refused_and_told_in_minutes(storage):
    throttle, email = LoginThrottle("10 per 15 minutes", NO_CEILING, storage), _email()
    for _ in range(10):
        await throttle.attempt(email, "10.0.0.1")

    with pytest.raises(TooManyAttempts) as refused:
        await throttle.attempt(email, "10.0.0.1")

    assert 14 * 60 < refused.value.retry_after <= 15 * 60
    assert refused.value.message.endswith("try again in 15 minutes.")


async def test_a_success_gives_the_attempts_back(storage):
    throttle, email = LoginThrottle("3 per minute", NO_CEILING, storage), _email()
    for _ in range(3):
        await throttle.attempt(email, "10.0.0.1")
    await throttle.succeeded(email, "10.0.0.1")

    for _ in range(3):
        await throttle.attempt(email, "10.0.0.1")


async def test_a_flooded_account_paces_every_client_and_locks_out_none(storage):
    # 3 per pair, a ceiling of 6 per minute: past it, one attempt per 10 s per client.
    throttle, owner = LoginThrottle("3 per minute", "6 per minute", storage), _email()
    for stranger in ("10.0.0.1", "10.0.0.2"):
        for _ in range(3):
            await throttle.attempt(owner, stranger)

    await throttle.attempt(owner, "192.0.2.7")  # the owner's address has its own turn
    with pytest.raises(TooManyAttempts) as paced:
        await throttle.attempt(owner, "192.0.2.7")  # at once again: wait for the next
    await throttle.attempt(owner, "10.0.0.3")  # another stranger's turn is not the owner's
    with pytest.raises(TooManyAttempts) as locked:
        await throttle.attempt(owner, "10.0.0.1")  # a spent pair stays refused in full

    assert 0 < paced.value.retry_after <= 10
    assert paced.value.message.endswith(f"try again in {paced.value.retry_after} seconds.")
    assert "waits its turn" in paced.value.message
    assert locked.value.message.endswith("try again in 1 minute.")
    await throttle.succeeded(owner, "192.0.2.7")  # the right password: the turn is back
    await throttle.attempt(owner, "192.0.2.7")


async def test_waiting_for_a_turn_costs_no_slot(storage):
    throttle, owner = LoginThrottle("3 per minute", "3 per minute", storage), _email()
    for _ in range(3):
        await throttle.attempt(owner, "10.0.0.1")

    await throttle.attempt(owner, "192.0.2.7")
    for _ in range(5):
        with pytest.raises(TooManyAttempts, match="waits its turn"):
            await throttle.attempt(owner, "192.0.2.7")
    await throttle.succeeded(owner, "192.0.2.7")

    # Five refused turns took none of the owner's three slots.
    for _ in range(3):
        await throttle.attempt(owner, "192.0.2.7")
        await throttle.succeeded(owner, "192.0.2.7")


async def test_processes_sharing_redis_share_the_count():
    storage, email = _redis_storage(), _email()
    first = LoginThrottle("3 per minute", NO_CEILING, storage)
    second = LoginThrottle("3 per minute", NO_CEILING, storage)

    await first.attempt(email, "10.0.0.1")
    await second.attempt(email, "10.0.0.1")
    await first.attempt(email, "10.0.0.1")

    with pytest.raises(TooManyAttempts):
        await second.attempt(email, "10.0.0.1")


async def test_successes_while_old_attempts_expire_break_nothing():
    # limits' memory storage expires attempts in a background task; a success that gave
    # the slots back under its feet made it fail with a KeyError (seen in a server log).
    throttle = LoginThrottle("10 per minute", NO_CEILING, "async+memory://")
    storage = throttle.storage
    for round_ in range(20):
        emails = [f"user{round_}-{n}@example.com" for n in range(30)]
        for email in emails:
            await throttle.attempt(email, "10.0.0.1")
        await asyncio.gather(*(throttle.succeeded(email, "10.0.0.1") for email in emails))
        if storage.timer is not None:
            await storage.timer  # raises what the background task raised
