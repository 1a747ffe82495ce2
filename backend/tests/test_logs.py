"""The log as an operator reads it: one line per request, whatever the request's path
holds; line breaks and other control or text-direction characters appear escaped."""

import json
import logging
from collections.abc import Iterator

import pytest

from contoso.logs import configure_logging

FORGED = "INFO contoso.access [0123456789abcdef]: GET /tickets 200"


class LogOutput:
    """Logging set up as `contoso serve` sets it up, writing to the captured stderr."""

    def __init__(self, capsys) -> None:
        self.capsys = capsys

    def configure(self, fmt: str) -> None:
        configure_logging("info", fmt)

    def lines(self) -> list[str]:
        return self.capsys.readouterr().err.splitlines()


@pytest.fixture
def log(capsys) -> Iterator[LogOutput]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield LogOutput(capsys)
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("%0a" + FORGED.replace(" ", "%20"), "\\x0a" + FORGED),
        ("%0d%0a" + FORGED.replace(" ", "%20"), "\\x0d\\x0a" + FORGED),
        ("%c2%85" + FORGED.replace(" ", "%20"), "\\x85" + FORGED),  # NEL, a C1 line break
        ("%e2%80%a8x", "\\u2028x"),  # line separator
        ("%e2%80%aegpj.exe", "\\u202egpj.exe"),  # right-to-left override
        ("%00%1b[31mred", "\\x00\\x1b[31mred"),  # NUL and a terminal colour escape
    ],
)
async def test_a_path_cannot_forge_or_disguise_a_log_line(client, log, sent, shown):
    log.configure("text")

    response = await client.get(f"/nothing{sent}")

    assert response.status_code == 404
    access = [line for line in log.lines() if line.startswith("INFO contoso.access [")]
    assert len(access) == 1, access
    assert access[0].endswith(f"GET /nothing{shown} 404")


async def test_a_json_log_line_keeps_the_path_escaped_the_same_way(client, log):
    log.configure("json")

    await client.get("/nothing%0aINFO%20forged%e2%80%ae")

    entries = [json.loads(line) for line in log.lines() if line.startswith("{")]
    entries = [entry for entry in entries if entry["logger"] == "contoso.access"]
    assert len(entries) == 1
    assert entries[0]["path"] == "/nothing\\x0aINFO forged\\u202e"
    assert entries[0]["message"] == "GET /nothing\\x0aINFO forged\\u202e 404"


async def test_ordinary_text_is_logged_as_it_is(client, log):
    # Guards the tests above: printable text of any script is left alone.
    log.configure("text")

    await client.get("/nothing/caf%C3%A9/%E6%8A%A5%E9%94%80")

    access = [line for line in log.lines() if line.startswith("INFO contoso.access [")]
    assert access[0].endswith("GET /nothing/café/报销 404")
