"""The README's commands run here, so they cannot go stale."""

import re
import subprocess
from pathlib import Path

from contoso.tickets.workflow import TRANSITIONS, Actor
from tests.support.servers import contoso_env, start_server, stop_server, wait_ready

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_readme_api_story_runs_as_written(tmp_path, database_url, app):
    story = re.search(
        r"<!-- api-story:start -->\s*```bash\n(.*?)```\s*<!-- api-story:end -->", README, re.S
    ).group(1)
    process, base = start_server(contoso_env(tmp_path, database_url))
    try:
        wait_ready(base, process)
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", story],
            env={"BASE": base, "PATH": "/usr/bin:/bin:/usr/local/bin"},
            cwd=tmp_path,  # where it writes its receipt
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        stop_server(process)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "1",
        "['receipt_missing']",
        "application/pdf",
        "[]",
        "approved",
        "42.50,USD,SEPA-2026-11-28-01",
        "SEPA-2026-11-28-01",
        "True",
        "401",
        "0",
    ]
    assert (
        "It prints `1`, `['receipt_missing']`, `application/pdf`, `[]`, `approved`,\n"
        "`42.50,USD,SEPA-2026-11-28-01`, `SEPA-2026-11-28-01`, `True`, `401` and `0`." in README
    )


def test_the_readme_names_the_two_commands():
    assert "cd backend && uv run contoso serve" in README
    assert "cd backend && uv run pytest" in README


def test_the_readme_workflow_table_is_the_declared_workflow():
    section = README.split("### The ticket workflow", 1)[1].split("\n###", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| transition")
    ]
    written = {row[0]: row[1:] for row in rows}
    declared = {
        name: [
            ", ".join(sorted(t.sources)),
            t.target,
            "an employer (not on their own)" if t.by is Actor.EMPLOYER else "its owner",
            ", ".join(t.stamps),
            t.event,
            t.mail or "",
        ]
        for name, t in TRANSITIONS.items()
    }
    assert written == declared
