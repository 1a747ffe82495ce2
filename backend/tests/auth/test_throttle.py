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


async def test_attempts_past_the_limit_are_refused_with_a_retry_after():
    throttle = LoginThrottle("3 per minute", "async+memory://")
    for _ in range(3):
        await throttle.attempt("a@example.com", "10.0.0.1")

    with pytest.raises(TooManyAttempts) as refused:
        await throttle.attempt("a@example.com", "10.0.0.1")
    await throttle.attempt("a@example.com", "10.0.0.2")  # another client is not blocked

    assert 0 < refused.value.retry_after <= 60


async def test_a_success_gives_the_attempts_back():
    throttle = LoginThrottle("3 per minute", "async+memory://")
    for _ in range(3):
        await throttle.attempt("a@example.com", "10.0.0.1")
    await throttle.succeeded("a@example.com", "10.0.0.1")

    for _ in range(3):
        await throttle.attempt("a@example.com", "10.0.0.1")


async def test_processes_sharing_redis_share_the_count():
    address = urlsplit(REDIS)
    try:
        socket.create_connection((address.hostname, address.port or 6379), timeout=1).close()
    except OSError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {REDIS}: {exc}")
    storage = REDIS.replace("redis://", "async+redis://")
    email = f"{uuid.uuid4().hex}@example.com"
    first, second = LoginThrottle("3 per minute", storage), LoginThrottle("3 per minute", storage)

    await first.attempt(email, "10.0.0.1")
    await second.attempt(email, "10.0.0.1")
    await first.attempt(email, "10.0.0.1")

    with pytest.raises(TooManyAttempts):
        await second.attempt(email, "10.0.0.1")


async def test_successes_while_old_attempts_expire_break_nothing():
    # limits' memory storage expires attempts in a background task; a success that gave
    # the slots back under its feet made it fail with a KeyError (seen in a server log).
    throttle = LoginThrottle("10 per minute", "async+memory://")
    storage = throttle.storage
    for round_ in range(20):
        emails = [f"user{round_}-{n}@example.com" for n in range(30)]
        for email in emails:
            await throttle.attempt(email, "10.0.0.1")
        await asyncio.gather(*(throttle.succeeded(email, "10.0.0.1") for email in emails))
        if storage.timer is not None:
            await storage.timer  # raises what the background task raised
