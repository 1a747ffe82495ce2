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
        "wrong logins, brute force (429 with Retry-After after 10 attempts per account and "
        "client; each attempt takes its slot before the password is hashed, so 30 guesses "
        "sent at once through any door get exactly 10 answers that are not 429), oversized "
        "bodies declared or streamed (413), unicode and overlong text, "
        "HTML shown as text in the API, console and pages, cross-site GET and POST on the "
        "console. `tests/reliability/test_attacks.py`.",
    ),
    (
        "odd input",
        "Odd input",
        "Hypothesis sends what schemathesis does not, to `contoso serve` on PostgreSQL: "
        "`NaN`, `Infinity`, `-Infinity`, `1e309` and a 5,000-digit integer as raw JSON, and "
        "text with NUL or a lone surrogate (`\\udfff`), in every field of every JSON "
        "operation of `/openapi.json` (alone or in a list, as an anonymous caller, an "
        "employee and an employer); NUL and lone surrogates in every field of the page "
        "forms, the console login and a console action, urlencoded, as multipart, and as "
        "multipart declaring `charset=unicode_escape` (which decodes `\\udfff` to half of "
        "a surrogate pair); and random searches, filters and page numbers on the console's "
        "lists. Held: no 5xx and no traceback in the server's output; a number that is not "
        "finite or too long to read and a lone surrogate in JSON are a 422 that says so; a "
        "form holding NUL or a lone surrogate is a 400 page; a search with control "
        "characters is a 400. `tests/reliability/test_odd_input.py`.\n\n"
        "An outside probe found each of these as a 500 (or a forged log line); each has a "
        "regression test:\n\n"
        "- NaN, Infinity, `1e309` or a lone surrogate in any JSON field: the validation "
        "error echoed it and could not be encoded. JSON bodies are now checked before "
        "FastAPI reads them (422: numbers must be finite, text must be valid Unicode); no "
        "422 echoes what cannot be encoded, and messages read as our validators wrote them "
        '(no "Value error, "). `tests/test_strict_json.py`, `tests/test_errors.py`.\n'
        "- A garbage multipart body or over 1,000 fields on `POST /` and `POST "
        "/admin/login`, raised by the CSRF check or the page; and NUL or a lone surrogate "
        "from a form's own charset, which reached the database, a password hash or the "
        'page. Every form is now read by one function: 400, "This form could not be '
        'read" (at most 100 fields, no files). Text no rule refused that the database or '
        "an encoder cannot take is a 400 that says so. `tests/web/test_forms.py`, "
        "`tests/test_errors.py`.\n"
        "- The console's lists: `?search=%3Afoo` (the count's `EXPLAIN` rendered the search "
        "into SQL text; it now sends it as a bound parameter), `?search=%00` (400: no "
        "control characters), `?status=bogus` and the audit log's `?kind=bogus` (400 "
        "naming the choices); searching for `%`, `_` or `\\` now finds them as typed. "
        "`tests/admin/test_console_input.py`.\n"
        "- A correctly signed token whose `sub` or `ver` is beyond bigint: already a 401; "
        "`tests/auth/test_tokens.py` keeps it so.\n"
        "- `GET /nothing%0aINFO ...` wrote a forged line in the text log: line breaks, "
        "other control characters and text-direction controls are now escaped (`\\x0a`, "
        "`\\u202e`) in both log formats. `tests/test_logs.py`.\n"
        "- Descriptions, notes and names made only of invisible or text-direction "
        'characters (`\\u202e`, `\\u200b`, `\\ufeff`, among spaces): 422, "must contain a '
        'visible character". `tests/test_validation.py`.',
    ),
    (
        "probe:",
        "Other findings of the outside probe",
        "Each has a regression test that failed before its fix:\n\n"
        "- The login throttle counted a failure only after the ~0.3 s hash: 20 concurrent "
        "wrong passwords all got 401 with a limit of 10. The slot is now taken first. "
        "`tests/reliability/test_attacks.py` (every door), `tests/auth/test_throttle.py`.\n"
        "- Anyone could register as an employer. `EMPLOYER_SIGNUP` (open, invite, closed; "
        "invite in production) with single-use, per-email, 7-day invitation codes; "
        "concurrent sign-ups with one code make one employer. "
        "`tests/auth/test_invitations.py`.\n"
        "- Every anonymous GET of `/` or `/admin/login` stored an 8-hour session row. "
        "Anonymous forms now carry their CSRF token in a signed double-submit cookie; a "
        "session is created at login; expired sessions are swept every 10 minutes. "
        "`tests/web/test_csrf_and_sessions.py`.\n"
        "- Behind the scale-out nginx every client shared nginx's address for the throttle. "
        "The replicas now trust nginx's fixed address only; a real server counts the client "
        "a trusted proxy names and ignores the header from anyone else. "
        "`tests/test_deploy.py`, `tests/auth/test_proxy.py`.\n"
        "- Responses could be cached: every response but the static files is now "
        "`Cache-Control: no-store`. A suspended employee's old token said \"session "
        'expired"; it now says the account is suspended. '
        "`tests/reliability/test_attacks.py`, `tests/tickets/test_endpoints.py`.",
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
