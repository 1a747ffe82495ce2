"""The API docs: /docs works offline, and /openapi.json tells clients the truth.

Every answer checked here is a real one from the app, validated against the schema
that /openapi.json publishes for its operation and status.
"""

import re
from datetime import date
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient, Response
from jsonschema import Draft202012Validator

from contoso.main import create_app, is_browser_path
from contoso.models import EventKind, TicketStatus
from contoso.tickets.workflow import TRANSITIONS
from contoso.validation import MAX_RECORD_ID
from tests.support.factories import PASSWORD

# Every operation, by the id generated clients name their functions after: renaming one
# breaks those clients, so a change here must be deliberate.
OPERATION_IDS = {
    ("POST", "/api/auth/register"): "auth-register",
    ("POST", "/api/auth/login"): "auth-login",
    ("POST", "/api/auth/token"): "auth-token",
    ("POST", "/api/invitations"): "auth-invite-employer",
    ("GET", "/api/users/me"): "auth-me",
    ("POST", "/api/users/me/password"): "auth-change-password",
    ("POST", "/api/auth/password-reset"): "auth-request-password-reset",
    ("POST", "/api/auth/password-reset/confirm"): "auth-confirm-password-reset",
    ("POST", "/api/tickets"): "tickets-create",
    ("GET", "/api/tickets"): "tickets-list",
    ("POST", "/api/tickets/decisions"): "tickets-decide",
    ("GET", "/api/tickets/{ticket_id}"): "tickets-get",
    ("PATCH", "/api/tickets/{ticket_id}"): "tickets-update",
    ("GET", "/api/tickets/{ticket_id}/history"): "tickets-history",
    ("POST", "/api/tickets/{ticket_id}/approve"): "tickets-approve",
    ("POST", "/api/tickets/{ticket_id}/deny"): "tickets-deny",
    ("GET", "/api/employees"): "employees-list",
    ("POST", "/api/employees/{employee_id}/suspend"): "employees-suspend",
    ("POST", "/api/employees/{employee_id}/reactivate"): "employees-reactivate",
    ("GET", "/api/categories"): "categories-list",
    ("POST", "/api/categories"): "categories-create",
    ("GET", "/api/categories/{category_id}"): "categories-get",
    ("PATCH", "/api/categories/{category_id}"): "categories-update",
    ("POST", "/api/tickets/{ticket_id}/receipts"): "receipts-add",
    ("GET", "/api/tickets/{ticket_id}/receipts/{receipt_id}"): "receipts-get",
    ("DELETE", "/api/tickets/{ticket_id}/receipts/{receipt_id}"): "receipts-delete",
    ("POST", "/api/payments"): "payments-pay",
    ("GET", "/api/payments"): "payments-list",
    ("GET", "/api/payments/{payment_id}"): "payments-get",
    ("GET", "/api/payments/{payment_id}/export"): "payments-export",
    ("GET", "/api/exchange-rates"): "exchange-rates-list",
    ("POST", "/api/exchange-rates"): "exchange-rates-add",
    ("POST", "/api/tickets/{ticket_id}/request-changes"): "tickets-request-changes",
    ("POST", "/api/tickets/{ticket_id}/resubmit"): "tickets-resubmit",
    ("PATCH", "/api/users/me"): "auth-update-me",
    ("GET", "/api/tickets/{ticket_id}/comments"): "comments-list",
    ("POST", "/api/tickets/{ticket_id}/comments"): "comments-add",
    ("GET", "/healthz"): "health-live",
    ("GET", "/readyz"): "health-ready",
}
# A transition declared later gets its route's id as the others have (`tickets-<slug>`);
# those above stay as they are.
for _transition in TRANSITIONS.values():
    if not _transition.own_door:
        OPERATION_IDS.setdefault(
            ("POST", f"/api/tickets/{{ticket_id}}/{_transition.slug}"),
            f"tickets-{_transition.slug}",
        )


class Schema:
    """The app's published OpenAPI document, asked what it promises."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def operation(self, operation_id: str) -> dict[str, Any]:
        for item in self.document["paths"].values():
            for operation in item.values():
                if operation["operationId"] == operation_id:
                    return operation
        raise AssertionError(f"no operation {operation_id} in /openapi.json")

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        """`schema` with a `$ref`, or a `$ref` or null in `anyOf`, followed to the model."""
        for option in schema.get("anyOf", [schema]):
            if "$ref" in option:
                return self.document["components"]["schemas"][option["$ref"].split("/")[-1]]
        return schema

    def request_example(self, operation_id: str) -> Any:
        body = self.operation(operation_id)["requestBody"]["content"]["application/json"]
        return self.resolve(body["schema"])["examples"][0]

    def check(self, operation_id: str, response: Response) -> Any:
        """Assert that the operation documents `response`'s status with a JSON body schema,
        and that the body is valid against it. Returns the body."""
        answers = self.operation(operation_id)["responses"]
        status = str(response.status_code)
        assert status in answers, f"{operation_id} answered {status}, not documented"
        content = answers[status].get("content", {})
        assert "application/json" in content, f"{operation_id} {status}: no body documented"
        schema = {
            **content["application/json"]["schema"],
            "components": self.document["components"],  # where its $refs point
        }
        body = response.json()
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
        assert not errors, f"{operation_id} {status} breaks its schema: {errors}"
        return body


@pytest.fixture
async def schema(client) -> Schema:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return Schema(response.json())


async def test_docs_load_swagger_ui_from_the_app_itself(client):
    page = await client.get("/docs")

    assert page.status_code == 200
    # Nothing from another host: the page works without internet access.
    assert not re.search(r"https?://", page.text), page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) == 3  # the script, the stylesheet and the favicon
    for asset in assets:
        answer = await client.get(asset)
        assert answer.status_code == 200, asset
        assert "set-cookie" not in answer.headers  # no session for static files
        assert not is_browser_path(asset)
    script = next(asset for asset in assets if asset.endswith(".js"))
    assert "SwaggerUIBundle" in (await client.get(script)).text
    assert "url: '/openapi.json'" in page.text


async def test_a_missing_docs_asset_is_a_json_404(client):
    response = await client.get("/docs/assets/no-such-file.js")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


async def test_docs_and_their_assets_are_gone_when_disabled(settings):
    app = create_app(settings.model_copy(update={"docs_enabled": False}))
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        answers = [
            await http.get(path)
            for path in ("/docs", "/docs/assets/swagger-ui.css", "/openapi.json")
        ]
    await app.state.database.dispose()

    assert [answer.status_code for answer in answers] == [404, 404, 404]


async def test_operation_ids_are_short_unique_and_stable(schema):
    found = {
        (method.upper(), path): operation["operationId"]
        for path, item in schema.document["paths"].items()
        for method, operation in item.items()
    }

    assert found == OPERATION_IDS
    assert len(set(found.values())) == len(found)


async def test_integer_bounds_are_exact_integers(client, schema):
    raw = (await client.get("/openapi.json")).text
    ticket_id = schema.operation("tickets-approve")["parameters"][0]["schema"]
    employee_id = schema.operation("employees-suspend")["parameters"][0]["schema"]
    bulk = schema.document["components"]["schemas"]["BulkDecision"]

    for bounded in (ticket_id, employee_id, bulk["properties"]["ticket_ids"]["items"]):
        assert bounded["maximum"] == MAX_RECORD_ID
        assert type(bounded["maximum"]) is int and type(bounded["minimum"]) is int
    # 2**63 - 1 as a float is 2**63, an id that does not fit a PostgreSQL bigint.
    assert "e+18" not in raw and "9223372036854775807" in raw


async def test_event_kinds_are_an_enum(schema):
    event = schema.document["components"]["schemas"]["EventRead"]
    kind = schema.resolve(event["properties"]["kind"])

    assert kind["enum"] == [member.value for member in EventKind]


async def test_every_json_request_body_shows_an_example_the_server_accepts(client, factory, schema):
    with_bodies = {
        operation["operationId"]
        for item in schema.document["paths"].values()
        for operation in item.values()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    }
    examples = {operation_id: schema.request_example(operation_id) for operation_id in with_bodies}
    employer = await factory.employer()

    # "Try it out" as it comes, through the whole story.
    registered = await client.post("/api/auth/register", json=examples["auth-register"])
    logged_in = await client.post("/api/auth/login", json=examples["auth-login"])
    employee = {"Authorization": f"Bearer {logged_in.json()['access_token']}"}
    filed = await client.post("/api/tickets", json=examples["tickets-create"], headers=employee)
    ticket = filed.json()["id"]
    edited = await client.patch(
        f"/api/tickets/{ticket}", json=examples["tickets-update"], headers=employee
    )
    denied = await client.post(
        f"/api/tickets/{ticket}/deny", json=examples["tickets-deny"], headers=employer.headers
    )
    decided = await client.post(
        "/api/tickets/decisions", json=examples["tickets-decide"], headers=employer.headers
    )
    invited = await client.post(
        "/api/invitations", json=examples["auth-invite-employer"], headers=employer.headers
    )
    category = await client.post(
        "/api/categories", json=examples["categories-create"], headers=employer.headers
    )
    paid = await client.post(
        "/api/payments", json=examples["payments-pay"], headers=employer.headers
    )
    rate = await client.post(
        "/api/exchange-rates", json=examples["exchange-rates-add"], headers=employer.headers
    )
    second = await client.post("/api/tickets", json=examples["tickets-create"], headers=employee)
    sent_back = await client.post(
        f"/api/tickets/{second.json()['id']}/request-changes",
        json=examples["tickets-request-changes"],
        headers=employer.headers,
    )
    settings_changed = await client.patch(
        "/api/users/me", json=examples["auth-update-me"], headers=employee
    )
    commented = await client.post(
        f"/api/tickets/{second.json()['id']}/comments",
        json=examples["comments-add"],
        headers=employee,
    )
    recategorised = await client.patch(
        f"/api/categories/{category.json()['id']}",
        json=examples["categories-update"],
        headers=employer.headers,
    )
    reset_asked = await client.post(
        "/api/auth/password-reset", json=examples["auth-request-password-reset"]
    )
    reset = await client.post(
        "/api/auth/password-reset/confirm", json=examples["auth-confirm-password-reset"]
    )
    # Someone else's password changes: the employee's token stays good for what follows.
    changing = await factory.employee(password=examples["auth-change-password"]["current_password"])
    password_changed = await client.post(
        "/api/users/me/password", json=examples["auth-change-password"], headers=changing.headers
    )

    assert registered.status_code == 201, registered.text
    assert logged_in.status_code == 200, logged_in.text
    assert filed.status_code == 201, filed.text
    assert filed.json()["description"] == "Taxi from the airport to the client's office"
    assert edited.status_code == 200, edited.text
    assert denied.json()["decision_note"] == "Please attach the itemised receipt"
    assert decided.status_code == 200, decided.text
    assert invited.status_code == 201, invited.text
    assert category.status_code == 201, category.text
    # Valid as sent; the example's tickets were denied above, so none can be paid.
    assert paid.status_code == 409, paid.text
    assert paid.json()["detail"].startswith("None of these tickets can be paid")
    assert recategorised.status_code == 200, recategorised.text
    assert rate.status_code == 201, rate.text
    assert sent_back.json()["status"] == "changes_requested", sent_back.text
    assert commented.status_code == 201, commented.text
    assert settings_changed.json()["email_notifications"] is False, settings_changed.text
    assert reset_asked.status_code == 202, reset_asked.text
    # Valid as sent; only an emailed link's token sets a password.
    assert reset.status_code == 400 and "Ask for a new link" in reset.json()["detail"]
    assert password_changed.status_code == 200, password_changed.text
    assert examples["auth-register"]["email"].endswith("@example.com")
    assert examples["tickets-approve"] == examples["tickets-deny"]  # one Decision schema
    # Every transition of an employer's from pending, its example on a ticket of its own.
    for transition in TRANSITIONS.values():
        if transition.own_door or not transition.takes_note:
            continue
        assert TicketStatus.PENDING in transition.sources, transition.name  # else: a path
        another = await client.post(
            "/api/tickets", json=examples["tickets-create"], headers=employee
        )
        acted = await client.post(
            f"/api/tickets/{another.json()['id']}/{transition.slug}",
            json=examples[f"tickets-{transition.slug}"],
            headers=employer.headers,
        )
        assert acted.json()["status"] == transition.target, acted.text
    generated = {
        f"tickets-{t.slug}" for t in TRANSITIONS.values() if t.takes_note and not t.own_door
    }
    assert with_bodies - generated == {
        "auth-register",
        "auth-login",
        "auth-invite-employer",
        "tickets-create",
        "tickets-update",
        "tickets-decide",
        "categories-create",
        "categories-update",
        "payments-pay",
        "exchange-rates-add",
        "comments-add",
        "auth-update-me",
        "auth-request-password-reset",
        "auth-confirm-password-reset",
        "auth-change-password",
    }
    assert {"tickets-approve", "tickets-deny", "tickets-request-changes"} <= generated


async def test_real_answers_match_the_published_schema(client, factory, schema):
    boss = await factory.employer()
    mei = await factory.employee()
    check = schema.check

    check("auth-me", await client.get("/api/users/me", headers=mei.headers))
    check("auth-me", await client.get("/api/users/me"))  # 401
    login = {"email": mei.email, "password": PASSWORD}
    check("auth-login", await client.post("/api/auth/login", json=login))
    wrong = {"email": mei.email, "password": "not her password"}
    check("auth-login", await client.post("/api/auth/login", json=wrong))  # 401
    check("auth-register", await client.post("/api/auth/register", json=login))  # 422

    ticket = {"spent_on": date.today().isoformat(), "amount": "42.5", "description": "Taxi"}
    filed = check(
        "tickets-create", await client.post("/api/tickets", json=ticket, headers=mei.headers)
    )
    other = await factory.ticket(mei)
    check("tickets-create", await client.post("/api/tickets", json=ticket, headers=boss.headers))
    check("tickets-list", await client.get("/api/tickets", headers=boss.headers))
    check("tickets-get", await client.get(f"/api/tickets/{filed['id']}", headers=mei.headers))
    check("tickets-get", await client.get(f"/api/tickets/{MAX_RECORD_ID}", headers=mei.headers))
    edit = {"amount": "40.00"}
    path = f"/api/tickets/{filed['id']}"
    check("tickets-update", await client.patch(path, json=edit, headers=mei.headers))
    check("tickets-approve", await client.post(f"{path}/approve", headers=boss.headers))
    check("tickets-approve", await client.post(f"{path}/approve", headers=boss.headers))  # 409
    check("tickets-deny", await client.post(f"{path}/deny", headers=mei.headers))  # 403
    bulk = {"ticket_ids": [filed["id"], other["id"]], "decision": "deny", "note": "No receipt"}
    report = check(
        "tickets-decide",
        await client.post("/api/tickets/decisions", json=bulk, headers=boss.headers),
    )
    history = check("tickets-history", await client.get(f"{path}/history", headers=mei.headers))
    check("employees-list", await client.get("/api/employees", headers=boss.headers))
    suspend = f"/api/employees/{mei.id}/suspend"
    check("employees-suspend", await client.post(suspend, headers=boss.headers))
    check("employees-suspend", await client.post(suspend, headers=boss.headers))  # 409
    check("auth-login", await client.post("/api/auth/login", json=login))  # 403: suspended
    reactivate = f"/api/employees/{mei.id}/reactivate"
    check("employees-reactivate", await client.post(reactivate, headers=boss.headers))
    reset = "/api/auth/password-reset"
    check("auth-request-password-reset", await client.post(reset, json={"email": mei.email}))
    dead = {"token": "made-up", "password": "a new passphrase"}
    check("auth-confirm-password-reset", await client.post(f"{reset}/confirm", json=dead))  # 400
    change = {"current_password": "not hers", "new_password": "a new passphrase"}
    check(
        "auth-change-password",
        await client.post("/api/users/me/password", json=change, headers=boss.headers),
    )  # 403
    change["current_password"] = PASSWORD
    check(
        "auth-change-password",
        await client.post("/api/users/me/password", json=change, headers=boss.headers),
    )
    check("health-live", await client.get("/healthz"))
    check("health-ready", await client.get("/readyz"))

    assert report["decided"] == [other["id"]]
    assert report["skipped"] == [{"id": filed["id"], "reason": "already_decided"}]
    assert [event["kind"] for event in history] == [
        "ticket_created",
        "ticket_edited",
        "ticket_approved",
    ]


async def test_a_throttled_login_answers_as_documented(client, factory, schema):
    mei = await factory.employee()
    wrong = {"email": mei.email, "password": "not her password"}

    for _ in range(50):
        answer = await client.post("/api/auth/login", json=wrong)
        if answer.status_code != 401:
            break

    assert answer.status_code == 429
    assert answer.headers["retry-after"].isdigit()
    assert schema.check("auth-login", answer)["detail"]


async def test_a_too_large_body_answers_as_documented(client, schema, settings):
    huge = {"email": "a@example.com", "password": "x" * settings.max_body_bytes}

    answer = await client.post("/api/auth/login", json=huge)

    assert answer.status_code == 413
    schema.check("auth-login", answer)


async def test_readiness_with_the_database_down_answers_as_documented(settings, schema):
    # Port 1 on loopback: nothing listens, so every connection is refused at once.
    down = settings.model_copy(
        update={"database_url": "postgresql+asyncpg://postgres@127.0.0.1:1/none", "db_timeout": 2}
    )
    app = create_app(down)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        ready = await http.get("/readyz")
    await app.state.database.dispose()

    assert ready.status_code == 503
    assert schema.check("health-ready", ready)["status"] == "unavailable"
