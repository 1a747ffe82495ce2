"""The API's contract, proven by schemathesis: `contoso serve` on PostgreSQL, fuzzed
from its own /openapi.json by the schemathesis CLI with every check, the examples,
coverage, fuzzing and stateful phases, as an employee and as an employer. Any failure
fails the test, and so CI (it is part of the README's test command).

Only "schema-valid request accepted" is narrowed, to the refusals the schema states in
words (`contract_checks.py`). A fixed seed and example count keep the run repeatable
and short; CONTRACT_SEED and CONTRACT_EXAMPLES run it longer or with another seed
(docs/reliability.md).
"""

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from tests.support.servers import contoso_env, serving

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
SEED = os.environ.get("CONTRACT_SEED", "20261207")
EXAMPLES = os.environ.get("CONTRACT_EXAMPLES", "10")
# The story's walk repeats its scenarios until this budget is spent.
STORY_SECONDS = os.environ.get("CONTRACT_STORY_SECONDS", "90")
BACKEND = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def live_api(tmp_path_factory, database_url):
    with serving(contoso_env(tmp_path_factory.mktemp("contract"), database_url)) as base:
        yield base


def _account(live_api: str, role: str) -> dict:
    answer = httpx.post(
        f"{live_api}/api/auth/register",
        json={
            "email": f"contract-{uuid.uuid4().hex[:12]}@example.com",
            "password": "contract-password",
            "username": f"Contract {role}",
            "role": role,
        },
    )
    assert answer.status_code == 201, answer.text
    account: dict = answer.json()
    if role == "employee":  # something for the employer's links to reach
        filed = httpx.post(
            f"{live_api}/api/tickets",
            json={"spent_on": "2026-01-05", "amount": "5.00", "description": "contract"},
            headers={"Authorization": f"Bearer {account['access_token']}"},
        )
        assert filed.status_code == 201, filed.text
    return account


def _token(live_api: str, role: str) -> str:
    token: str = _account(live_api, role)["access_token"]
    return token


def _run(
    live_api: str,
    reports: Path,
    options: list[str],
    *,
    config: Path | None = None,
    hooks: str = "tests.reliability.contract_checks",
    env: dict[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess, dict]:
    command = [
        SCHEMATHESIS,
        *(["--config-file", str(config)] if config else []),
        "run",
        f"{live_api}/openapi.json",
        *options,
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",  # replaced by schema_valid_request_accepted
        "--seed",
        SEED,
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--no-color",
        # How fast hypothesis generates data is the machine's speed, not the contract:
        # on a loaded CI machine this check stopped runs that had no failure.
        "--suppress-health-check",
        "too_slow",
        "--report",
        "json",
        "--report-dir",
        str(reports),
    ]
    environment = (
        os.environ
        | (env or {})
        | {
            "SCHEMATHESIS_HOOKS": hooks,
            "PYTHONPATH": str(BACKEND),
        }
    )
    run = subprocess.run(
        command,
        cwd=BACKEND,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report = json.loads(next(reports.glob("*.json")).read_text())
    return run, report


@pytest.mark.parametrize("role", ["employee", "employer"])
def test_the_api_keeps_its_contract(live_api, tmp_path, figures, role):
    options = [
        "--header",
        f"Authorization: Bearer {_token(live_api, role)}",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        EXAMPLES,
    ]
    run, report = _run(live_api, tmp_path, options)

    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-4000:]
    assert report["failures"] == [] and report["errors"] == []
    assert report["operations"]["tested"] == report["operations"]["total"] >= 36
    links = re.search(r"API Links:\s+(\d+) covered / (\d+) selected", run.stdout)
    assert links, run.stdout[-4000:]
    figures.add(
        f"contract: schemathesis as an {role}",
        operations=report["operations"]["tested"],
        requests=report["test_cases"]["generated"],
        failures=report["test_cases"]["with_failures"],
        **{"links covered": int(links[1]), "links": int(links[2])},
        seconds=round(report["running_time"]),
    )


# The story's walk: longer scenarios than schemathesis's default, as a ticket's life is.
STORY_CONFIG = """
[phases.stateful]
max-steps = 20
[phases.stateful.generation]
max-examples = 100
"""


def test_the_story_walks_the_links_as_an_employee_and_an_employer(live_api, tmp_path, figures):
    """The stateful phase alone, each operation called as the role that may use it
    (`contract_story.py`): an employee files and the employer decides, pays or sends
    back, so the links from one to the other are walked with ids that exist."""
    employee = _account(live_api, "employee")
    employer = _token(live_api, "employer")
    rate = httpx.post(
        f"{live_api}/api/exchange-rates",
        json={"currency": "EUR", "rate": "1.1", "valid_from": "2000-01-01"},
        headers={"Authorization": f"Bearer {employer}"},
    )
    # 409: the per-role runs recorded one for that day already (their examples); any
    # rate lets tickets in euros be filed.
    assert rate.status_code in (201, 409), rate.text
    config = tmp_path / "story.toml"
    config.write_text(STORY_CONFIG)
    calls = tmp_path / "calls.txt"
    run, report = _run(
        live_api,
        tmp_path / "reports",
        ["--phases", "stateful", "--max-time", STORY_SECONDS],
        config=config,
        hooks="tests.reliability.contract_story",
        env={
            "CONTRACT_EMPLOYEE_TOKEN": employee["access_token"],
            "CONTRACT_EMPLOYEE_ID": str(employee["user"]["id"]),
            "CONTRACT_EMPLOYER_TOKEN": employer,
            "CONTRACT_CALLS": str(calls),
        },
    )

    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-4000:]
    assert report["failures"] == [] and report["errors"] == []
    answered = [line.rsplit(" ", 1) for line in calls.read_text().splitlines()]
    reached = {operation for operation, status in answered if status.startswith("2")}
    # The story's first steps, each taken with an id an earlier step returned (how far
    # each walk gets past them varies with the time the machine gives it).
    assert {
        "POST /api/tickets",
        "GET /api/tickets/{ticket_id}",
        "POST /api/tickets/{ticket_id}/comments",
        "POST /api/tickets/decisions",
    } <= reached, sorted(reached)
    links = re.search(r"API Links:\s+(\d+) covered / (\d+) selected", run.stdout)
    scenarios = re.search(r"Scenarios:\s+(\d+)", run.stdout)
    assert links and scenarios, run.stdout[-4000:]
    assert int(links[1]) >= 30, run.stdout[-4000:]
    figures.add(
        "contract: the story's walk, employee and employer",
        scenarios=int(scenarios[1]),
        requests=len(answered),
        failures=report["test_cases"]["with_failures"],
        **{
            "links covered": int(links[1]),
            "links": int(links[2]),
            "operations answered 2xx": len(reached),
        },
        seconds=round(report["running_time"]),
    )
