"""Rows that outlived their use go while the app runs: Idempotency-Keys after a day."""

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from contoso import main
from contoso.models import IdempotencyKey


async def test_filing_keys_older_than_a_day_are_swept_while_the_app_runs(
    settings, monkeypatch, factory, app
):
    alice = await factory.employee()
    for key in ("old", "fresh"):
        filed = await factory.client.post(
            "/api/tickets",
            json={"spent_on": "2026-01-05", "amount": "9.00", "description": f"Lunch {key}"},
            headers=alice.headers | {"Idempotency-Key": key},
        )
        assert filed.status_code == 201, filed.text
    async with app.state.database.sessionmaker.begin() as session:
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.key == "old")
            .values(created_at=IdempotencyKey.created_at - timedelta(hours=25))
        )
    monkeypatch.setattr(main, "SESSION_SWEEP_INTERVAL", timedelta(milliseconds=50))
    # An app of its own: its lifespan (which starts the sweeps) runs in this test.
    running = main.create_app(settings)

    async with running.router.lifespan_context(running):
        for _ in range(100):
            if await _keys(running) == ["fresh"]:
                break
            await asyncio.sleep(0.02)
        left = await _keys(running)
    await running.state.database.dispose()

    assert left == ["fresh"]


async def _keys(app) -> list[str]:
    async with app.state.database.sessionmaker() as session:
        return list((await session.scalars(select(IdempotencyKey.key))).all())
