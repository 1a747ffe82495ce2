"""The `contoso` command as people run it: real processes, real databases."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from contoso.commands import DEMO_EMPLOYER, DEMO_PASSWORD

CONTOSO = str(Path(sys.executable).parent / "contoso")


def _env(tmp_path: Path, database_url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    env |= {"DATA_DIR": str(tmp_path / "data"), "PASSWORD_HASH_ROUNDS": "4"} | extra
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    # A new session has no terminal, so getpass reads the password from stdin.
    return subprocess.run(
        [CONTOSO, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        start_new_session=True,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_ready(url: str, process: subprocess.Popen, seconds: float = 90) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited early:\n{process.log.read_text()}")
        try:
            return httpx.get(f"{url}/readyz", timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail("serve did not answer in time")


def _serve(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    # Output goes to a file: a pipe nobody reads fills up and blocks the server.
    log = Path(env["DATA_DIR"]).parent / f"serve-{port}.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [CONTOSO, "serve", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process.log = log
    return process, f"http://127.0.0.1:{port}"


def _stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    return process.log.read_text()


def test_serve_with_no_configuration_embeds_postgres_and_stops_it_on_exit(tmp_path):
    process, url = _serve(_env(tmp_path, None))
    try:
        ready = _wait_ready(url, process)
        registered = httpx.post(
            f"{url}/api/auth/register",
            json={"email": "first@example.com", "password": "password-1234", "username": "First"},
        )
    finally:
        output = _stop(process)

    assert ready.status_code == 200, output
    assert registered.status_code == 201
    assert f"API docs:  {url}/docs" in output
    assert "SECRET_KEY is not set" in output
    assert process.returncode == 0
    pgdata = tmp_path / "data" / "pgdata"
    assert (pgdata / "PG_VERSION").exists()
    assert not (pgdata / "postmaster.pid").exists()  # the server stopped with us

    # The data is kept and reused by the next run.
    process, url = _serve(_env(tmp_path, None))
    try:
        _wait_ready(url, process)
        login = httpx.post(
            f"{url}/api/auth/login",
            json={"email": "first@example.com", "password": "password-1234"},
        )
    finally:
        _stop(process)
    assert login.status_code == 200


def test_serve_uses_database_url_when_set(tmp_path, database_url, app):
    process, url = _serve(_env(tmp_path, database_url))
    try:
        ready = _wait_ready(url, process)
    finally:
        _stop(process)
    assert ready.status_code == 200
    assert not (tmp_path / "data" / "pgdata").exists()


def test_db_url_prints_a_url_psql_understands(tmp_path, database_url):
    result = _run(["db-url"], _env(tmp_path, database_url))
    assert result.returncode == 0
    assert result.stdout.strip() == database_url.replace("+asyncpg", "")


async def test_seed_demo_creates_accounts_that_log_in_and_runs_once(tmp_path, database_url, client):
    env = _env(tmp_path, database_url)

    first = _run(["seed-demo"], env)
    second = _run(["seed-demo"], env)

    assert first.returncode == 0, first.stderr
    assert DEMO_PASSWORD in first.stdout
    assert "Already seeded" in second.stdout
    login = await client.post(
        "/api/auth/login", json={"email": DEMO_EMPLOYER, "password": DEMO_PASSWORD}
    )
    assert login.json()["user"]["role"] == "employer"
    token = login.json()["access_token"]
    tickets = await client.get("/api/tickets", headers={"Authorization": f"Bearer {token}"})
    statuses = {ticket["status"] for ticket in tickets.json()["items"]}
    assert statuses == {"pending", "approved", "denied"}
    assert tickets.json()["total"] == 9


def test_seed_demo_is_refused_in_production(tmp_path, database_url):
    env = _env(
        tmp_path,
        database_url,
        ENVIRONMENT="production",
        SECRET_KEY="9f2c1e7a4b8d6f03a5c2e9b1d7f4a6c8e0b3d5f7a9c1e3b5",
        PASSWORD_HASH_ROUNDS="10",
    )
    result = _run(["seed-demo"], env)
    assert "refusing in production" in result.stdout


async def test_create_employer_prompts_for_a_password_that_then_logs_in(
    tmp_path, database_url, client
):
    env = _env(tmp_path, database_url)

    created = _run(["create-employer", "Head@Example.com"], env, stdin="s3cret-pass\ns3cret-pass\n")
    mismatch = _run(["create-employer", "other@example.com"], env, stdin="one-pass-1\ntwo-pass-2\n")
    taken = _run(["create-employer", "head@example.com"], env, stdin="s3cret-pass\ns3cret-pass\n")

    assert "Employer head@example.com created" in created.stdout, created.stderr
    assert mismatch.returncode != 0
    assert "passwords differ" in mismatch.stderr
    assert "already exists" in taken.stdout
    login = await client.post(
        "/api/auth/login", json={"email": "head@example.com", "password": "s3cret-pass"}
    )
    assert login.json()["user"]["role"] == "employer"


def test_invalid_configuration_is_reported_plainly(tmp_path):
    result = _run(["migrate"], _env(tmp_path, "mysql://nope@localhost/x"))
    assert result.returncode != 0
    assert "invalid configuration" in result.stderr
    assert "must be a PostgreSQL URL" in result.stderr
