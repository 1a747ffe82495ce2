"""`contoso` as people run it: real processes on free ports, waited for and stopped."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

CONTOSO = str(Path(sys.executable).parent / "contoso")
# What a production deployment sets: a strong secret and the full hashing cost.
PRODUCTION = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": "9f2c1e7a4b8d6f03a5c2e9b1d7f4a6c8e0b3d5f7a9c1e3b5",
    "PASSWORD_HASH_ROUNDS": "10",
}


def contoso_env(tmp_path: Path, database_url: str | None, **extra: str) -> dict[str, str]:
    """This machine's environment for a `contoso` process, with its data under `tmp_path`,
    the cheapest password hashing, and `database_url` (embedded PostgreSQL when None)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    env |= {"DATA_DIR": str(tmp_path / "data"), "PASSWORD_HASH_ROUNDS": "4"} | extra
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def run_contoso(
    args: list[str], env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess:
    """Run `contoso *args` to completion and capture what it printed."""
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


@contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    """`contoso serve` with `env` for the block, answering at the URL it yields; the
    test fails if the server printed a traceback meanwhile."""
    process, url = start_server(env)
    try:
        wait_ready(url, process)
        yield url
    finally:
        output = stop_server(process)
        assert "Traceback" not in output, output[-4000:]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_process(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start `argv` in a session of its own, its output going to `log` (kept as `.log`)."""
    # Output goes to a file: a pipe nobody reads fills up and blocks the server.
    with log.open("w") as sink:
        process = subprocess.Popen(
            argv, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    process.log = log
    return process


def start_server(env: dict[str, str], port: int | None = None) -> tuple[subprocess.Popen, str]:
    """Start `contoso serve` on `port` (a free one if None); returns the process and its
    base URL."""
    port = port or free_port()
    log = Path(env["DATA_DIR"]).parent / f"serve-{port}.log"
    process = start_process([CONTOSO, "serve", "--port", str(port)], env, log)
    return process, f"http://127.0.0.1:{port}"


def wait_ready(url: str, process: subprocess.Popen, seconds: float = 90) -> httpx.Response:
    """The first answer of `/readyz`, whatever its status; fails the test if the server
    exits or stays silent for `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited early:\n{process.log.read_text()}")
        try:
            return httpx.get(f"{url}/readyz", timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail("serve did not answer in time")


def stop_server(process: subprocess.Popen) -> str:
    """Stop the server as a process manager would (SIGTERM) and return all it printed."""
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    return process.log.read_text()
