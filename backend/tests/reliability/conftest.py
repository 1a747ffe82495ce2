"""Figures for docs/reliability.md: each group records what it tried and what held."""

import json
from collections import defaultdict
from pathlib import Path

import pytest

ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "reliability.json"


class Figures:
    def __init__(self) -> None:
        self.groups: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, group: str, **counts: int) -> None:
        for name, value in counts.items():
            self.groups[group][name] += value


@pytest.fixture(scope="session")
def figures():
    collected = Figures()
    yield collected
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(collected.groups, indent=2, sort_keys=True))
