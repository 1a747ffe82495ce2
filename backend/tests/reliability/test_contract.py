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
BACKEND = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def live_api(tmp_path_factory, database_url):
    with serving(contoso_env(tmp_path_factory.mktemp("contract"), database_url)) as base:
        yield base


def _token(live_api: str, role: str) -> str:
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
    token: str = answer.json()["access_token"]
    if role == "employee":  # something for the employer's links to reach
        filed = httpx.post(
            f"{live_api}/api/tickets",
            json={"spent_on": "2026-01-05", "amount": "5.00", "description": "contract"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert filed.status_code == 201, filed.text
    return token


def _run(live_api: str, token: str, reports: Path) -> tuple[subprocess.CompletedProcess, dict]:
    command = [
        SCHEMATHESIS,
        "run",
        f"{live_api}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",  # replaced by schema_valid_request_accepted
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--seed",
        SEED,
        "--max-examples",
        EXAMPLES,
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
    env = os.environ | {
        "SCHEMATHESIS_HOOKS": "tests.reliability.contract_checks",
        "PYTHONPATH": str(BACKEND),
    }
    run = subprocess.run(
        command, cwd=BACKEND, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    report = json.loads(next(reports.glob("*.json")).read_text())
    return run, report


@pytest.mark.parametrize("role", ["employee", "employer"])
def test_the_api_keeps_its_contract(live_api, tmp_path, figures, role):
    run, report = _run(live_api, _token(live_api, role), tmp_path)

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
