"""Background sweeps of rows that have outlived their use (sessions, filing keys, reset
links)."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

logger = logging.getLogger(__name__)


async def sweep_periodically(
    what: str, purge: Callable[[], Awaitable[int]], every: timedelta
) -> None:
    """Call `purge` every `every`, for as long as the app runs (its lifespan starts
    this). Each worker and replica sweeps; the purges are indexed DELETEs, idempotent.
    A sweep that fails (the database is down) is logged and retried at the next one."""
    while True:
        await asyncio.sleep(every.total_seconds())
        try:
            removed = await purge()
        except Exception:  # a background loop must outlive an outage
            logger.warning("could not sweep %s; retrying later", what, exc_info=True)
            continue
        if removed:
            logger.info("swept %d %s", removed, what)
