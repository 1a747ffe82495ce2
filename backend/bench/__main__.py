"""Run the load benchmark end to end and write docs/performance.md.

    cd backend && uv run python -m bench            # seed (once), run, report
    cd backend && uv run python -m bench --reseed   # rebuild the 1M-ticket database

The service runs as users run it (uvicorn, uvloop, httptools, one worker pinned to
core 0); wrk drives it from core 1. The employee list is measured once more the way
`WORKERS=2` users run it on a two-core machine: two workers, nothing pinned. A bare
Starlette + asyncpg app answers the same list and insert requests in the same run and
the same configurations, and every figure is also given as a ratio to it. Needs `wrk`
(apt-get install wrk) and `taskset`.
"""

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import jwt
import psutil

from bench.report import Result, report
from bench.seed import EMPLOYEES, PASSWORD, TICKETS, seed
from bench.uploads import FLOOD_CLIENTS, on_load_core, upload_burst
from contoso.auth.hashing import PasswordHasher
from contoso.bootstrap import migrate
from contoso.embedded import ensure_database, start_embedded_server, to_asyncpg_url, with_database

BACKEND = Path(__file__).resolve().parents[1]
WORK = BACKEND / ".data" / "bench-work"
WRK = Path(__file__).parent / "wrk"
DATABASE = "contoso_bench"
SECRET = "benchmark-only-signing-key-0123456789-abcdefghijklmnop"
DURATION = int(os.environ.get("BENCH_SECONDS", "10"))
# Employer-side scenarios: four employers working at once (the seed has five).
EMPLOYERS = 4


@dataclass(frozen=True)
class Placement:
    """How many uvicorn workers serve, and the cores (None: unpinned) of server and wrk."""

    workers: int
    server_core: str | None
    load_core: str | None


# One worker on core 0, wrk on core 1: figures that do not depend on the scheduler.
PINNED = Placement(workers=1, server_core="0", load_core="1")
# What `WORKERS=2` users run on this two-core machine: the scheduler places everything.
TWO_WORKERS_UNPINNED = Placement(workers=2, server_core=None, load_core=None)


def _on_core(core: str | None, command: list[str]) -> list[str]:
    return ["taskset", "-c", core, *command] if core else command


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def parse_wrk(output: str) -> dict[str, float]:
    """requests/s, p50, p99 (ms), request count and errors from `wrk --latency` output."""
    figures: dict[str, float] = {}
    figures["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    figures["requests"] = int(re.search(r"(\d+) requests in", output).group(1))
    figures["p50"] = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))
    figures["p99"] = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors += sum(int(n) for n in sockets.groups()) if sockets else 0
    figures["errors"] = errors
    return figures


# The receipt decoders' processes: a forkserver, the workers forked from it, and the
# resource tracker multiprocessing starts beside them.
_DECODER_COMMANDS = ("multiprocessing.forkserver", "multiprocessing.resource_tracker")


class Server:
    """A uvicorn server placed as `placement` says, with its peak memory sampled (the
    supervisor's and every worker's RSS summed; the receipt decoders, processes of their
    own under their own memory cap, apart: `decoders_mb`)."""

    def __init__(
        self, name: str, target: list[str], env: dict[str, str], placement: Placement = PINNED
    ) -> None:
        self.name = name
        self.placement = placement
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        uvicorn = [
            sys.executable,
            "-m",
            "uvicorn",
            *target,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(placement.workers),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            # Info adds start-up and shutdown lines only: readiness is read from them.
            "--log-level",
            "info",
        ]
        self.log = WORK / f"{name}-{placement.workers}w.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                _on_core(placement.server_core, uvicorn),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=BACKEND,
            )
        self._wait_until_ready()
        self.peak_rss = 0.0
        self._sampling = False

    def _wait_until_ready(self) -> None:
        """Return once every worker has finished its start-up and the port answers."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            started = self.log.read_text().count("Application startup complete")
            if started >= self.placement.workers:
                try:
                    httpx.get(self.url + "/healthz", timeout=1)
                    return
                except httpx.TransportError:
                    pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"{self.name} did not start:\n{self.log.read_text()}")

    def _members(self, decoders: bool) -> list[psutil.Process]:
        process = psutil.Process(self.process.pid)
        members = []
        for member in [process, *process.children(recursive=True)]:
            # A worker can exit between listing and reading (uvicorn replaces dead ones).
            with contextlib.suppress(psutil.NoSuchProcess):
                command = " ".join(member.cmdline())
                decoding = any(part in command for part in _DECODER_COMMANDS)
                if decoding == decoders:
                    members.append(member)
        return members

    def rss_mb(self) -> float:
        total = 0
        for member in self._members(decoders=False):
            with contextlib.suppress(psutil.NoSuchProcess):
                total += member.memory_info().rss
        return total / 2**20

    def decoders_mb(self) -> float:
        """What the receipt decoders hold of their own: unique memory, as the workers
        share their code with the forkserver they were forked from."""
        total = 0
        for member in self._members(decoders=True):
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                total += member.memory_full_info().uss
        return total / 2**20

    def sample(self) -> "Server":
        self._sampling = True
        self.peak_rss = self.rss_mb()

        def loop() -> None:
            while self._sampling:
                self.peak_rss = max(self.peak_rss, self.rss_mb())
                time.sleep(0.2)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def stop_sampling(self) -> float:
        self._sampling = False
        self._thread.join()
        return self.peak_rss

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wrk(
    url: str,
    script: str,
    connections: int,
    env: dict[str, str],
    seconds: int,
    core: str | None,
) -> str:
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(WRK / script),
        url,
    ]
    done = subprocess.run(
        _on_core(core, command), env=os.environ | env, capture_output=True, text=True, check=True
    )
    return done.stdout


def run_wrk(
    server: Server,
    scenario: str,
    script: str,
    connections: int,
    env: dict[str, str],
    seconds: int = DURATION,
) -> Result:
    server.sample()
    output = wrk(server.url, script, connections, env, seconds, server.placement.load_core)
    rss = server.stop_sampling()
    figures = parse_wrk(output)
    result = Result(
        scenario,
        server.name,
        connections,
        figures["rps"],
        figures["p50"],
        figures["p99"],
        int(figures["errors"]),
        int(figures["requests"]),
        rss,
        workers=server.placement.workers,
    )
    print(
        f"  {scenario:<44} {server.name:<9} c={connections:<4} {result.requests_per_s:>8.0f}/s "
        f"p50 {result.p50_ms:>7.1f} ms  p99 {result.p99_ms:>7.1f} ms  errors {result.errors}  "
        f"RSS {rss:.0f} MB",
        flush=True,
    )
    return result


async def prepare_database(reseed: bool) -> tuple[str, dict[str, float]]:
    explicit = os.environ.get("BENCH_DATABASE_URL")
    if explicit:
        admin = explicit.replace("postgresql+asyncpg://", "postgresql://")
    else:
        admin = await asyncio.to_thread(start_embedded_server, BACKEND / ".data" / "bench")
    url = with_database(admin, DATABASE)
    if not reseed and await _is_seeded(admin, url):
        # Reused: bring its schema up to date (new indexes build on the existing rows).
        await asyncio.to_thread(migrate, to_asyncpg_url(url))
        return url, {}
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    finally:
        await connection.close()
    await ensure_database(admin, DATABASE)
    await asyncio.to_thread(migrate, to_asyncpg_url(url))
    print(f"seeding {TICKETS:,} tickets for {EMPLOYEES:,} employees ...", flush=True)
    password_hash = await PasswordHasher(12).hash(PASSWORD)
    started = time.perf_counter()
    timings = await seed(url, password_hash)
    timings["total"] = time.perf_counter() - started
    print("  " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()), flush=True)
    return url, timings


async def _is_seeded(admin: str, url: str) -> bool:
    """True if an earlier run left a complete benchmark database to reuse."""
    connection = await asyncpg.connect(admin)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE)
    finally:
        await connection.close()
    if not exists:
        return False
    check = await asyncpg.connect(url)
    try:
        seeded = await check.fetchval("SELECT to_regclass('tickets') IS NOT NULL")
        return bool(seeded) and await check.fetchval("SELECT count(*) FROM tickets") >= TICKETS
    finally:
        await check.close()


def token_for(user_id: int) -> str:
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "ver": 0, "iat": now, "exp": now + timedelta(hours=6)}
    return jwt.encode(claims, SECRET, algorithm="HS256")


async def fixtures(url: str) -> dict[str, object]:
    connection = await asyncpg.connect(url)
    try:
        employees = await connection.fetch(
            "SELECT id FROM users WHERE role = 'employee' AND NOT suspended ORDER BY id LIMIT 2000"
        )
        boss = await connection.fetchrow(
            "SELECT id, email FROM users WHERE role = 'employer' ORDER BY id LIMIT 1"
        )
    finally:
        await connection.close()
    tokens = WORK / "employee_tokens.txt"
    tokens.write_text("\n".join(token_for(row["id"]) for row in employees) + "\n")
    return {"tokens": str(tokens), "boss_token": token_for(boss["id"]), "boss_email": boss["email"]}


async def _vacuum(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("VACUUM ANALYZE tickets")
    finally:
        await connection.close()


async def _reset_index_use(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("SELECT pg_stat_reset()")
    finally:
        await connection.close()


async def _index_use(url: str) -> list[tuple[str, str, int]]:
    """(table, index, scans) of every index since `_reset_index_use`: which ones the
    service's scenarios read. Run once its processes have exited (they flush their
    counts as they go)."""
    connection = await asyncpg.connect(url)
    try:
        await asyncio.sleep(1)  # the statistics are flushed at most a second late
        rows = await connection.fetch(
            "SELECT relname, indexrelname, idx_scan FROM pg_stat_user_indexes"
            " ORDER BY relname, idx_scan DESC, indexrelname"
        )
    finally:
        await connection.close()
    return [(row["relname"], row["indexrelname"], row["idx_scan"]) for row in rows]


def console_cookie(server: Server, email: str) -> str:
    """Log into the console as a browser does and return the session cookie."""
    with httpx.Client(base_url=server.url) as browser:
        page = browser.get("/admin/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        browser.post(
            "/admin/login", data={"username": email, "password": PASSWORD, "csrf_token": token}
        )
        return f"contoso_session={browser.cookies['contoso_session']}"


@dataclass(frozen=True)
class BulkRequest:
    """One request acting on 10,000 tickets that `chosen` (SQL) selects."""

    scenario: str
    chosen: str
    path: str
    body: Callable[[list[int]], dict[str, object]]
    status: int
    # The answer's list of the tickets it acted on, and what to call them.
    done: str


BULK_APPROVAL = BulkRequest(
    "bulk approve of 10,000 tickets (one request)",
    "t.status = 'pending' AND t.flags = '{}'",
    "/api/tickets/decisions",
    lambda ids: {"ticket_ids": ids, "decision": "approve"},
    200,
    "decided",
)
# A month-end run: one payment batch.
BULK_PAYMENT = BulkRequest(
    "payment batch of 10,000 tickets (one request)",
    "t.status = 'approved'",
    "/api/payments",
    lambda ids: {"ticket_ids": ids, "reference": f"BENCH-{time.time_ns()}"},
    201,
    "paid",
)


async def bulk(server: Server, url: str, boss_token: str, request: BulkRequest) -> Result:
    connection = await asyncpg.connect(url)
    try:
        ids = [
            row["id"]
            for row in await connection.fetch(
                "SELECT t.id FROM tickets t JOIN users o ON o.id = t.owner_id "
                f"WHERE {request.chosen} AND NOT o.suspended LIMIT 10000"
            )
        ]
        before = await connection.fetchval("SELECT count(*) FROM events")
        server.sample()
        started = time.perf_counter()
        async with httpx.AsyncClient(timeout=60) as http:
            response = await http.post(
                f"{server.url}{request.path}",
                json=request.body(ids),
                headers={"Authorization": f"Bearer {boss_token}"},
            )
        seconds = time.perf_counter() - started
        rss = server.stop_sampling()
        after = await connection.fetchval("SELECT count(*) FROM events")
    finally:
        await connection.close()
    succeeded = response.status_code == request.status
    done = len(response.json()[request.done]) if succeeded else 0
    result = Result(
        request.scenario,
        server.name,
        1,
        p50_ms=seconds * 1000,
        p99_ms=seconds * 1000,
        errors=int(not succeeded),
        requests=1,
        rss_mb=rss,
        note=f"{done} {request.done}, {after - before} history entries",
    )
    print(f"  {result.scenario:<44} {seconds * 1000:.0f} ms, {result.note}", flush=True)
    return result


def uploads(server: Server, tokens_file: str) -> list[Result]:
    """1 MiB photos, then 1 MiB scans, from 16 clients at once; the worker's peak RSS."""
    tokens = Path(tokens_file).read_text().split()
    # The last tokens: employees the list scenarios read, but few enough to stay apart.
    tokens = tokens[-64:]
    results = []
    for kind, batch in (("photo", tokens[:32]), ("scan", tokens[32:])):
        idle = server.rss_mb()
        server.sample()
        with on_load_core(server.placement.load_core):
            result = asyncio.run(upload_burst(server.url, server.name, batch, kind, DURATION))
        result.rss_mb = server.stop_sampling()
        result.extra["idle_rss_mb"] = idle
        result.note += f"; RSS {idle:.0f} MB before; decoders {server.decoders_mb():.0f} MB"
        print(
            f"  {result.scenario:<44} {result.requests_per_s:8.1f} req/s  "
            f"p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms  "
            f"errors {result.errors}  RSS {result.rss_mb:.0f} MB ({result.note})",
            flush=True,
        )
        results.append(result)
    return results


def login_storm(server: Server, list_env: dict[str, str]) -> Result:
    """List traffic measured while a second wrk hammers the login endpoint."""
    storm = subprocess.Popen(
        _on_core(
            server.placement.load_core,
            [
                "wrk",
                "-t1",
                "-c16",
                f"-d{DURATION + 4}s",
                "--timeout",
                "30s",
                "-s",
                str(WRK / "login.lua"),
                server.url,
            ],
        ),
        env=os.environ | {"BENCH_ACCOUNTS": str(EMPLOYEES), "BENCH_PASSWORD": PASSWORD},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(2)
    result = run_wrk(server, "employee list during a login storm", "rotate.lua", 64, list_env)
    storm_output = storm.communicate()[0]
    answered = re.search(r"(\d+) requests in", storm_output)
    refused = re.search(r"Non-2xx or 3xx responses: (\d+)", storm_output)
    logins = int(answered.group(1)) - int(refused.group(1) if refused else 0) if answered else 0
    result.extra["logins"] = logins
    result.note = f"{logins} logins served meanwhile"
    return result


def list_during_upload_flood(server: Server, tokens_file: str) -> Result:
    """Other employees' list traffic while one employee's FLOOD_CLIENTS clients upload
    heavy PNGs back to back (the hardening issue's denial of service)."""
    tokens = Path(tokens_file).read_text().split()
    flooder, others = tokens[0], WORK / "other_employee_tokens.txt"
    others.write_text("\n".join(tokens[1:]) + "\n")
    flooding = subprocess.Popen(
        _on_core(
            server.placement.load_core,
            [sys.executable, "-m", "bench.uploads", server.url, flooder, str(DURATION + 4)],
        ),
        stdout=subprocess.PIPE,
        text=True,
        cwd=BACKEND,
    )
    time.sleep(3)  # the decoders busy, the per-user cap reached
    result = run_wrk(
        server,
        "employee list during one employee's upload flood",
        "rotate.lua",
        64,
        {"BENCH_TOKENS": str(others), "BENCH_PATH": "/api/tickets?limit=50"},
    )
    decoders = server.decoders_mb()  # the flood still on: both decoders at work
    answers = json.loads(flooding.communicate()[0] or "{}")
    shown = ", ".join(f"{count} x {status}" for status, count in sorted(answers.items()))
    result.note = (
        f"{FLOOD_CLIENTS} clients of one employee uploading meanwhile: {shown}; "
        f"decoders {decoders:.0f} MB"
    )
    return result


def two_workers_list(
    name: str, target: list[str], env: dict[str, str], list_env: dict[str, str]
) -> Result:
    """The employee list served by two unpinned workers, as `WORKERS=2` runs it here."""
    server = Server(name, target, env, TWO_WORKERS_UNPINNED)
    try:
        result = run_wrk(server, "employee list, two workers unpinned", "rotate.lua", 64, list_env)
    finally:
        server.stop()
    result.note = "RSS: supervisor and both workers"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--reseed", action="store_true", help="rebuild the database first")
    args = parser.parse_args()
    if not shutil.which("wrk") and os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (apt-get install wrk) ...", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            raise SystemExit(f"bench needs `{tool}` (apt-get install {tool})")
    WORK.mkdir(parents=True, exist_ok=True)
    url, seed_timings = asyncio.run(prepare_database(args.reseed))
    data = asyncio.run(fixtures(url))
    base_env = os.environ | {
        "DATABASE_URL": to_asyncpg_url(url),
        "SECRET_KEY": SECRET,
        "PASSWORD_HASH_ROUNDS": "12",
        "LOGIN_RATE_LIMIT": "1000000 per minute",
        "LOGIN_ACCOUNT_RATE_LIMIT": "1000000 per minute",
        "DOCS_ENABLED": "false",
        # No access log line per request: the reference writes none either.
        "LOG_LEVEL": "warning",
        # As the image runs both (Dockerfile): glibc's malloc otherwise gives each thread
        # that Starlette spools an upload in its own arena, and memory grows with them.
        "MALLOC_ARENA_MAX": "2",
        "PYTHONPATH": str(BACKEND),
    }
    list_env = {"BENCH_TOKENS": data["tokens"], "BENCH_PATH": "/api/tickets?limit=50"}

    def file_env() -> dict[str, str]:
        """Filings of their own: an amount per request and a purchase day per burst, so
        no burst's tickets repeat another's (the same employee, day and amount would be
        possible duplicates, a path of its own)."""
        day = date(2016, 1, 1) + timedelta(days=secrets.randbelow(3650))
        return {
            "BENCH_TOKENS": data["tokens"],
            "BENCH_METHOD": "POST",
            "BENCH_PATH": "/api/tickets",
            "BENCH_BODY": f'{{"spent_on": "{day}", "amount": "{{n}}.50", '
            '"description": "Benchmark taxi", "links": ["https://receipts.example.com/b"]}',
        }

    results: list[Result] = []

    reference_target = ["bench.reference:app"]
    app_target = ["--factory", "contoso.main:create_app"]

    print("reference: bare Starlette + asyncpg + PyJWT + orjson", flush=True)
    reference = Server("reference", reference_target, base_env)
    try:
        for connections in (64, 256):
            results.append(run_wrk(reference, "employee list", "rotate.lua", connections, list_env))
        results.append(run_wrk(reference, "employee files a ticket", "rotate.lua", 64, file_env()))
        results.extend(uploads(reference, data["tokens"]))
    finally:
        reference.stop()
    # What autovacuum does between bursts in a running system: each filing leaves tens
    # of thousands of fresh rows the index-only scans cannot use yet. Vacuuming after
    # every filing gives each later list the same kind of table to read.
    asyncio.run(_vacuum(url))
    results.append(two_workers_list("reference", reference_target, base_env, list_env))

    print("contoso: the service", flush=True)
    asyncio.run(_reset_index_use(url))
    app = Server("contoso", app_target, base_env)
    try:
        for connections in (64, 256):
            results.append(run_wrk(app, "employee list", "rotate.lua", connections, list_env))
        results.append(run_wrk(app, "employee files a ticket", "rotate.lua", 64, file_env()))
        results.extend(uploads(app, data["tokens"]))
        asyncio.run(_vacuum(url))
        boss = {
            "BENCH_HEADER_NAME": "Authorization",
            "BENCH_HEADER_VALUE": f"Bearer {data['boss_token']}",
        }
        results.append(
            run_wrk(
                app,
                "employer list, first page",
                "header.lua",
                EMPLOYERS,
                boss | {"BENCH_PATH": "/api/tickets?limit=50"},
            )
        )
        results.append(
            run_wrk(
                app,
                "employer list, 100,000 rows deep",
                "header.lua",
                EMPLOYERS,
                boss | {"BENCH_PATH": "/api/tickets?limit=50&offset=100000"},
            )
        )
        cookie = {
            "BENCH_HEADER_NAME": "Cookie",
            "BENCH_HEADER_VALUE": console_cookie(app, data["boss_email"]),
        }
        results.append(
            run_wrk(
                app,
                "console ticket list",
                "header.lua",
                EMPLOYERS,
                cookie | {"BENCH_PATH": "/admin/tickets/list"},
            )
        )
        results.append(
            run_wrk(
                app,
                "console dashboard",
                "header.lua",
                EMPLOYERS,
                cookie | {"BENCH_PATH": "/admin/"},
            )
        )
        for request in (BULK_APPROVAL, BULK_PAYMENT):
            results.append(asyncio.run(bulk(app, url, data["boss_token"], request)))
        results.append(login_storm(app, list_env))
        results.append(list_during_upload_flood(app, data["tokens"]))
    finally:
        app.stop()
    index_use = asyncio.run(_index_use(url))
    # The bulk approval and payment above rewrote 20,000 rows: vacuum as before the
    # reference's run.
    asyncio.run(_vacuum(url))
    results.append(two_workers_list("contoso", app_target, base_env, list_env))

    report(results, seed_timings, index_use)


if __name__ == "__main__":
    main()
