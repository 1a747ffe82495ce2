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
        "contract:",
        "The API's contract",
        "`tests/reliability/test_contract.py` runs the schemathesis CLI (4.32.5, pinned by "
        "`uv.lock`) against `contoso serve` on PostgreSQL with an employee's and then an "
        "employer's token: every check (`--checks all`), the examples, coverage, fuzzing and "
        "stateful phases, seed 20261207, 10 examples per operation, one worker. It is part "
        "of the README's test command, so CI runs it on both databases, and any failure "
        'fails the build. The one narrowed check is "schema-valid request accepted": a 422 '
        "is let through only when every error is a rule the schema states in words (a date "
        "after today, more decimals than the currency has, no exchange rate for the date, an "
        "amount worth more than one ticket may claim at that rate, a rate for the company's "
        "own currency, a category that does not exist), a 415 "
        "only for a receipt whose bytes are no accepted type, and a 400 only for a password "
        "reset token the server did not issue (or one used, expired or replaced: only an "
        "emailed link's token works, which the schema says) "
        "(`tests/reliability/contract_checks.py`). What was found and fixed: zero and "
        "above-maximum amounts and rates (the schema now states `exclusiveMinimum`/`maximum` "
        "and an exact pattern for text); null in PATCH fields (no longer offered by the "
        "schema; still a 422 that says to omit the field); currencies not in use (`LYG`; the "
        "schema's pattern lists the codes in use, in any case); `.test` and other "
        "special-use e-mail domains (the pattern and description say what email-validator "
        "accepts); a blank note when requesting changes in bulk (stated with `if`/`then`); "
        "`0` accepted as a boolean (booleans are now strict); dates before 2000 (pattern); "
        "an empty receipt (`minLength: 1`, refused with 415); OPTIONS answered 405 naming "
        "one method, and `PATCH /api/tickets/decisions` a 422 (one middleware now answers "
        "OPTIONS with 204 and the path's full `Allow`, and undeclared methods with 405); an "
        "employee's malformed body on an employer-only route answered 422 (now 403 from a "
        "dependency); no links (each creating operation now links to the operations that use "
        "its ids). Regression tests: `tests/test_allowed_methods.py`, "
        "`tests/auth/test_employers_only.py`, `tests/test_contract_schema.py`.\n\n"
        "**The story's walk.** The per-role runs' stateful phase covers only a few of the 124 "
        "links (10 scenarios of at most 6 steps, and a random filing is nearly always "
        "refused: a purchase date after today, an amount worth more than a ticket may claim, "
        "a currency with no rate). A third run "
        "(`test_the_story_walks_the_links_as_an_employee_and_an_employer`) is the stateful "
        "phase alone, for 90 seconds (`CONTRACT_STORY_SECONDS`), scenarios of up to 20 steps, "
        "with the hooks in `tests/reliability/contract_story.py`: each operation is called "
        "with the token of the role that may use it (the employer's for deciding, paying, "
        "categories, rates, employees and invitations; the employee's for the rest), so a "
        "ticket the employee files is the one the employer then sends back, approves or pays; "
        "generated bodies are steered past exactly the rules the schema states only in words "
        "(the same ones `contract_checks.py` lets through), receipts are a real PNG, lists "
        "start at their first item, and the story's own employee is never the one suspended. "
        "Every check still runs. Only positive cases are steered: the stateful phase also "
        "sends negative ones (a field emptied, say), which must stay as generated to be "
        "refused. Every check still runs. Runs on 2026-12-08 (90 s each, this 2-core "
        "machine): 90 to 215 scenarios and 1,200 to 2,200 requests with 0 failures, 76 to 93 "
        "of the 124 links covered, and 29 to 32 of the 39 operations answered 2xx at least "
        "once, among them filing, comments, receipts (uploaded, read and deleted), sending "
        "back and resubmitting, approving and denying singly and in bulk, and, in most runs, "
        "paying and reading the payment back. Never reached with a 2xx: the password reset "
        "confirmation (its token is only in the email), the password change (the walk does "
        "not know the employee's password), `GET /api/users/me` and `PATCH /api/users/me`, "
        "the reset request, and the health checks: no link leads to them, as nothing they "
        "take comes from another answer; the fuzzing phases call each of them. The test "
        "requires 0 failures, at least 30 links, and the story's first steps (a filing, "
        "reading it, a comment on it, a bulk decision); how far past them a walk gets varies "
        "with the time the machine gives it. Its first runs found nothing in the server; they "
        "found what a role-by-operation walk must respect (an employee does not see an "
        "inactive category the employer just created, so the employer reads categories back; "
        "a file must stay text to re-validate as the generated one did)."
        "\n\n"
        "A longer run of the per-role runs with a random seed, `CONTRACT_SEED=10183 "
        "CONTRACT_EXAMPLES=100 uv run pytest tests/reliability/test_contract.py` on "
        "2026-12-07: 0 failures for both roles, every one of the 36 operations then in the "
        "schema called; as an employee 5,395 requests in 186 s and 13 of 124 links covered, "
        "as an employer 4,844 requests in 205 s and 4 links covered.",
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
        "hardening:",
        "Findings of the second outside probe",
        "A second probe (about 1,000 odd inputs, some 40 attack classes) found no 5xx and "
        "two ways for any employee to deny service to everyone, with nine smaller holes. "
        "Each has a regression test that failed before its fix:\n\n"
        "1. **Progressive-JPEG scan bomb.** A 4000 x 4000 JPEG whose third scan repeats "
        "20,000 times is 374 KB and took Pillow 7 to 19 s. A JPEG with more than 20 scans "
        "(libjpeg writes 10 in colour, 18 in CMYK) is now refused with 422 by walking its "
        "markers, before any decoding; and every image is decoded in a separate process "
        "(a pebble pool, niced) whose job the kernel ends past `RECEIPT_DECODE_SECONDS` "
        "of CPU (10) and whose memory is capped (`RECEIPT_DECODE_MEMORY_MB`, 1536): 422, "
        "and only that job fails. PDFs are checked in a thread and never wait behind an "
        "image. `tests/receipts/test_files.py`, `tests/receipts/test_decoding.py`.\n"
        "2. **Uploads held a database connection while decoding**, so 20 uploads from one "
        "employee made 92% of others' requests a 503. An upload now gives back its "
        "connection and its admission turn while its file is decoded, on the API and the "
        "pages; uploads in flight are capped per user (4) and per process (16) with 429 "
        "and Retry-After; a request that finds no connection in time is a 503 that says "
        "the service is busy (Retry-After: 2, and a log line), not that the database is "
        "down. With one connection, lists are served while a 49-megapixel PNG decodes. "
        "`tests/receipts/test_decoding.py`, `tests/test_database.py`. In the bench, other "
        "employees' list kept 50% and 62% of its own throughput (two runs, 0 errors) while "
        "one employee's 20 clients uploaded a 49-megapixel PNG back to back "
        "(docs/performance.md).\n"
        "3. **ICC profiles copied as arbitrary bytes.** A profile is kept only if it parses "
        "as ICC for the image's colour space and is at most 1 MB, written back as the "
        "colour engine writes it; a larger real profile is applied (pixels to sRGB) and "
        "dropped; text or 5 MiB of noise is dropped. `tests/receipts/test_files.py`.\n"
        "4. **Text-direction controls** (U+202A-202E, U+2066-2069) are refused in every "
        "text field at every door with a message naming the field; one-line fields also "
        "refuse U+2028/2029, which multi-line fields store as line breaks; the pages and "
        'the console isolate people\'s text (`<bdi>`, `dir="auto"`). '
        "`tests/test_text_direction.py`; the odd-input fuzz sends them everywhere.\n"
        "5. **Non-ASCII addresses** went out as RFC 2047 encoded-words. The domain now goes "
        "IDNA-encoded, a non-ASCII local part with SMTPUTF8 (a raw UTF-8 `To:`); a server "
        "without SMTPUTF8 refuses that email with a clear reason and the others go; "
        "addresses are stored normalised, so either form logs in. "
        "`tests/mail/test_international.py` (aiosmtpd with and without SMTPUTF8), "
        "`tests/auth/test_international_emails.py`.\n"
        "6. **An 11th receipt on a form** was a bare 400. The form parser takes up to twice "
        "the receipts limit (one constant); the form comes back with the reason beside the "
        "receipts field and what was typed kept. `tests/web/test_receipt_pages.py`.\n"
        "7. **The Host header reflected** into `Location` and the console's asset URLs. "
        "Redirects to the app's own host carry the path alone, the console links by "
        "path, and production answers only `PUBLIC_URL`'s host (or `TRUSTED_HOSTS`; `*` "
        "stops start-up; health checks answer by address). `tests/test_hosts.py`, "
        "`tests/test_config.py`.\n"
        "8. **`next` checked as text** (`/tickets/../admin/`). The path is resolved (RFC "
        "3986 dot segments) and encoded dots and slashes send the user home. "
        "`tests/web/test_coming_back.py`.\n"
        "9. **Wrong invitation codes unthrottled.** Each code tried takes a login-throttle "
        "slot of its email and client. `tests/auth/test_invitations.py`.\n"
        "10. **The pre-login CSRF cookie stayed valid after login.** A browser with a "
        "session passes only with the session's token; login and logout renew the cookie, "
        "named `__Host-contoso_csrf` over HTTPS. `tests/web/test_csrf_and_sessions.py`.\n"
        "11. **A stranger could lock an employer out** where clients share an address. "
        "The hard limit stays per account and address (the 11th attempt is the first "
        "refused); past 100 attempts on one account from all addresses each address is "
        "paced to one attempt per 9 s, so the owner is slowed, never locked out; waits are "
        "said in minutes. `tests/auth/test_lockout.py`, `tests/auth/test_throttle.py`.",
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
