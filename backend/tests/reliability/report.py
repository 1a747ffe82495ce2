"""Write docs/reliability.md from the figures the last test run recorded.

cd backend && uv run pytest && uv run python -m tests.reliability.report
"""

import json
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[2]
FIGURES = BACKEND / "test-artifacts" / "reliability.json"
DOC = BACKEND.parent / "docs" / "reliability.md"

GROUPS = [
    (
        "fuzzing as",
        "Fuzzing",
        "Schemathesis generates requests for every operation of `/openapi.json` (positive "
        "cases that fit the schema, negative cases that break it) and sends them to "
        "`contoso serve` on PostgreSQL, as an anonymous caller, an employee and an employer. "
        "Held: no 5xx; every status code, content type and body is the one the schema "
        "documents; schema-breaking input is refused (4xx). `tests/reliability/test_fuzz.py`.",
    ),
    (
        "tokens:",
        "Missing and bad tokens",
        "Every operation whose schema declares a token, called with none, garbage and the "
        "wrong scheme. Held: 401 every time.",
    ),
    (
        "attacks",
        "Attacks",
        "Object access across employees (404, same body as a missing id), mass assignment of "
        "owner/status/decider/role (422, nothing changed), identical answers for unknown and "
        "wrong logins, brute force (429 with Retry-After after 10 failures per account and "
        "client), oversized bodies declared or streamed (413), unicode and overlong text, "
        "HTML shown as text in the API, console and pages, cross-site GET and POST on the "
        "console. `tests/reliability/test_attacks.py`.",
    ),
    (
        "races:",
        "Races",
        "Concurrent requests on separate connections (`asyncio.gather` through the ASGI app). "
        "Held: one account per email, one decision and one history entry per ticket, each "
        "ticket decided once by overlapping bulk decisions, and every 201 stored when a "
        "suspension lands among an employee's filings (later filings get 401). "
        "`tests/tickets/test_races.py`, `tests/auth/test_endpoints.py`.",
    ),
    (
        "faults:",
        "Faults",
        "PostgreSQL (a server of the test's own) is stopped with `pg_ctl -m fast` while four "
        "clients file tickets, then started again; and `contoso serve` is started against an "
        "address where nothing listens. Held: 503 with a plain message during the outage, "
        "fast (see the slowest); recovery without a restart and no failure afterwards; every "
        "201 is in the database and nothing else is; `/readyz` says 503 while the database is "
        "away; no traceback in the server's output. `tests/reliability/test_faults.py`.",
    ),
]


def _table(figures: dict[str, dict[str, int]], prefix: str) -> str:
    rows = []
    for group, counts in sorted(figures.items()):
        if group.startswith(prefix):
            shown = ", ".join(f"{name}: {value}" for name, value in sorted(counts.items()))
            rows.append(f"| {group} | {shown} |")
    return "| test | figures from the run |\n|---|---|\n" + "\n".join(rows)


def main() -> None:
    figures = json.loads(FIGURES.read_text())
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    parts = [
        "# Reliability: what the robustness tests tried and what held",
        "",
        f"Figures from one run of the whole suite on {datetime.now(UTC):%Y-%m-%d} "
        f"(commit {commit or 'unknown'}, {platform.machine()}, Python "
        f"{platform.python_version()}), written by",
        "",
        "```bash",
        "cd backend && uv run pytest && uv run python -m tests.reliability.report",
        "```",
        "",
        "Every group below runs in CI with the rest of the suite; a failure fails the build. "
        "The counts are those the tests recorded (`backend/test-artifacts/reliability.json`).",
    ]
    for prefix, title, prose in GROUPS:
        parts += ["", f"## {title}", "", prose, "", _table(figures, prefix)]
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(parts) + "\n")
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
