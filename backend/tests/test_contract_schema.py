"""/openapi.json states the rules the server enforces, so a client that keeps to the
schema is not refused for its shape; and it links each creating operation to those
that use what it returns."""

import re

import pytest

from contoso.validation import MAX_AMOUNT


@pytest.fixture
async def document(client):
    return (await client.get("/openapi.json")).json()


def component(document, name):
    return document["components"]["schemas"][name]


def string_pattern(schema) -> re.Pattern[str]:
    (text,) = [option for option in schema["anyOf"] if option["type"] == "string"]
    return re.compile(text["pattern"])


async def test_a_policy_limit_is_above_zero_and_at_most_the_maximum(document):
    limit = component(document, "CategoryCreate")["properties"]["max_amount"]["anyOf"][0]
    (number,) = [option for option in limit["anyOf"] if option["type"] == "number"]
    pattern = string_pattern(limit)

    assert number["exclusiveMinimum"] == 0 and number["maximum"] == MAX_AMOUNT
    assert [bool(pattern.fullmatch(t)) for t in ("0", "0.00", "1000000", "1000000.01")] == [
        False,
        False,
        True,
        False,
    ]
    assert str(MAX_AMOUNT) in limit["description"]


async def test_a_rate_of_zero_breaks_the_schema_and_is_refused(document, client, factory):
    boss = await factory.employer()
    rate = component(document, "ExchangeRateCreate")["properties"]["rate"]

    refused = await client.post(
        "/api/exchange-rates",
        json={"currency": "EUR", "rate": "0", "valid_from": "2026-01-01"},
        headers=boss.headers,
    )

    assert not string_pattern(rate).fullmatch("0")
    assert refused.status_code == 422


async def test_patch_fields_that_cannot_be_empty_are_not_nullable(document):
    for name in ("TicketUpdate", "CategoryUpdate"):
        for field, schema in component(document, name)["properties"].items():
            nullable = {"type": "null"} in schema.get("anyOf", [])
            assert nullable == (field in ("max_amount", "receipt_required_above")), (name, field)


async def test_currencies_not_in_use_break_the_schema(document):
    currency = component(document, "ExchangeRateCreate")["properties"]["currency"]
    pattern = re.compile(currency["pattern"])

    assert [bool(pattern.fullmatch(c)) for c in ("EUR", "eur", "JPY", "LYG", "DEM")] == [
        True,
        True,
        True,
        False,
        False,
    ]


async def test_special_use_email_domains_break_the_schema_as_the_server_refuses_them(
    document, client
):
    email = component(document, "RegisterRequest")["properties"]["email"]
    pattern = re.compile(email["pattern"])
    body = {"email": "mei@mail.test", "password": "a long passphrase", "username": "Mei"}

    refused = await client.post("/api/auth/register", json=body)

    assert ".test" in email["description"]
    assert not pattern.fullmatch("mei@mail.test") and pattern.fullmatch("mei@example.com")
    assert refused.status_code == 422


async def test_a_receipt_file_must_not_be_empty(document):
    body = component(document, "Body_receipts-add")["properties"]["file"]

    assert body["minLength"] == 1


async def test_requesting_changes_in_bulk_requires_a_note_in_the_schema(document):
    then = component(document, "BulkDecision")["then"]

    assert then["required"] == ["note"]
    assert then["properties"]["note"]["minLength"] == 1


async def test_creating_operations_link_to_the_operations_that_use_their_ids(document):
    links = {
        operation["operationId"]: set(answer.get("links", {}))
        for item in document["paths"].values()
        for operation in item.values()
        for answer in operation["responses"].values()
        if answer.get("links")
    }

    assert {"tickets-get", "tickets-update", "receipts-add", "comments-add"} <= links[
        "tickets-create"
    ]
    assert {"receipts-get", "receipts-delete"} <= links["receipts-add"]
    assert {"payments-get", "payments-export"} <= links["payments-pay"]
    assert {"categories-update"} <= links["categories-create"]
    assert {"employees-suspend", "employees-reactivate"} <= links["auth-register"]
    assert {"exchange-rates-list"} <= links["exchange-rates-add"]


async def test_links_carry_ids_into_request_bodies_so_every_operation_is_reachable(document):
    def link(source: str, target: str) -> dict:
        for item in document["paths"].values():
            for operation in item.values():
                if operation["operationId"] == source:
                    return operation["responses"][
                        "201" if "201" in operation["responses"] else "200"
                    ]["links"][target]
        raise AssertionError(source)

    assert link("categories-list", "tickets-create")["requestBody"] == {
        "category_id": "$response.body#/0/id"
    }
    assert link("tickets-approve", "payments-pay")["requestBody"] == {
        "ticket_ids": ["$response.body#/id"]
    }
    assert link("tickets-create", "tickets-decide")["requestBody"] == {
        "ticket_ids": ["$response.body#/id"]
    }
    assert link("auth-register", "auth-login")["requestBody"] == {
        "email": "$request.body#/email",
        "password": "$request.body#/password",
    }
    assert link("auth-invite-employer", "auth-register")["requestBody"] == {
        "email": "$response.body#/email",
        "invitation_code": "$response.body#/code",
    }


async def test_a_replayed_filing_carries_no_links(document):
    answers = document["paths"]["/api/tickets"]["post"]["responses"]

    assert answers["201"]["links"] and "links" not in answers["200"]
