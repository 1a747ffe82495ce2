"""A client generated from /openapi.json by openapi-python-client runs the README's story.

If the schema lies (an undocumented status, a field of the wrong type, an enum value it
does not list), the generated client refuses the answer and this test fails.
"""

import importlib
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest
from httpx import ASGITransport, AsyncClient

GENERATOR = str(Path(sys.executable).parent / "openapi-python-client")
PACKAGE = "contoso_client"


@pytest.fixture(scope="module")
async def openapi_document(app) -> bytes:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        response = await http.get("/openapi.json")
    assert response.status_code == 200
    return response.content


@pytest.fixture(scope="module")
def generated(openapi_document: bytes, tmp_path_factory) -> Iterator[ModuleType]:
    """The client package, generated into a temporary directory and imported from there."""
    where = tmp_path_factory.mktemp("client")
    (where / "openapi.json").write_bytes(openapi_document)
    # No formatting hooks: the code is imported, never read or committed. Receipts are
    # bytes to the client, whatever their type (as the README tells clients to configure).
    binary = ", ".join(
        f"{kind}: application/octet-stream"
        for kind in ("image/jpeg", "image/png", "image/webp", "application/pdf")
    )
    (where / "config.yaml").write_text(f"post_hooks: []\ncontent_type_overrides: {{{binary}}}\n")
    command = [GENERATOR, "generate", "--path", "openapi.json", "--config", "config.yaml"]
    command += ["--meta", "none", "--output-path", PACKAGE, "--fail-on-warning"]
    result = subprocess.run(
        command,
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


async def test_a_generated_client_runs_the_readme_story(app, generated):
    api = {name: _module(f"api.{name.split('_')[0]}.{name}") for name in _OPERATIONS}
    models = _module("models")
    transport = {"transport": ASGITransport(app=app)}

    def anonymous():
        return generated.Client(
            base_url="http://test", raise_on_unexpected_status=True, httpx_args=transport
        )

    def holding(token: str):
        return generated.AuthenticatedClient(
            base_url="http://test",
            token=token,
            raise_on_unexpected_status=True,
            httpx_args=transport,
        )

    # An employee and an employer register.
    mei_login = await api["auth_register"].asyncio(
        client=anonymous(),
        body=models.RegisterRequest(
            email="mei@example.com",
            password="a long passphrase",
            username="Mei",
            role=models.Role.EMPLOYEE,
        ),
    )
    lee_login = await api["auth_register"].asyncio(
        client=anonymous(),
        body=models.RegisterRequest(
            email="lee@example.com",
            password="another passphrase",
            username="Lee",
            role=models.Role.EMPLOYER,
        ),
    )
    mei, lee = holding(mei_login.access_token), holding(lee_login.access_token)

    # The employee files two tickets and lists her own.
    taxi, hotel = [
        await api["tickets_create"].asyncio(
            client=mei,
            body=models.TicketCreate(
                spent_on=date(2026, 1, 15),
                amount=amount,
                description=description,
                links=["https://receipts.example.com/r/8841"],
            ),
        )
        for amount, description in (("42.50", "Taxi to the client"), ("180.00", "Hotel"))
    ]
    mine = await api["tickets_list"].asyncio(client=mei)

    # The employer approves one, then denies both in bulk: the approved one is skipped.
    approved = await api["tickets_approve"].asyncio(client=lee, ticket_id=taxi.id, body=None)
    report = await api["tickets_decide"].asyncio(
        client=lee,
        body=models.BulkDecision(
            ticket_ids=[taxi.id, hotel.id],
            decision=models.BulkDecisionDecision.DENY,
            note="Please attach the itemised receipt",
        ),
    )
    history = await api["tickets_history"].asyncio(client=mei, ticket_id=hotel.id)

    # The employer suspends the employee: her token fails and her tickets are hidden.
    me = await api["auth_me"].asyncio(client=mei)
    suspended = await api["employees_suspend"].asyncio(client=lee, employee_id=me.id)
    refused = await api["tickets_list"].asyncio_detailed(client=mei)
    remaining = await api["tickets_list"].asyncio(client=lee)

    assert (mine.total, taxi.amount, taxi.spent_on) == (2, "42.50", date(2026, 1, 15))
    assert approved.status is models.TicketStatus.APPROVED
    assert report.decided == [hotel.id]
    assert [(skip.id, skip.reason) for skip in report.skipped] == [
        (taxi.id, models.TicketSkip.ALREADY_DECIDED)
    ]
    assert [event.kind for event in history] == [
        models.EventKind.TICKET_CREATED,
        models.EventKind.TICKET_DENIED,
    ]
    assert history[-1].note == "Please attach the itemised receipt"
    assert suspended.suspended is True
    assert refused.status_code == 401
    assert isinstance(refused.parsed, models.ErrorBody)
    assert remaining.total == 0


_OPERATIONS = (
    "auth_register",
    "auth_me",
    "tickets_create",
    "tickets_list",
    "tickets_approve",
    "tickets_decide",
    "tickets_history",
    "employees_suspend",
)
