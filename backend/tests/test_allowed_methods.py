"""Every API path says which methods it takes: OPTIONS lists them all in `Allow`, and
any other method is a 405 with the same `Allow`, never a 422 from a route it was not
meant for."""

import pytest

# Each path of the API with every method /openapi.json declares for it.
PATHS = {
    "/api/categories": {"GET", "POST"},
    "/api/categories/1": {"GET", "PATCH"},
    "/api/exchange-rates": {"GET", "POST"},
    "/api/payments": {"GET", "POST"},
    "/api/tickets": {"GET", "POST"},
    "/api/tickets/1": {"GET", "PATCH"},
    "/api/tickets/decisions": {"POST"},
    "/api/tickets/1/comments": {"GET", "POST"},
    "/api/tickets/1/receipts/2": {"GET", "DELETE"},
    "/api/users/me": {"GET", "PATCH"},
}


def allowed(response) -> set[str]:
    return {method.strip() for method in response.headers["allow"].split(",")}


@pytest.mark.parametrize("path", PATHS)
async def test_options_lists_every_method_of_the_path(client, path):
    response = await client.options(path)

    assert response.status_code == 204
    assert allowed(response) == PATHS[path] | {"OPTIONS"}


async def test_every_path_of_the_schema_answers_options_with_its_methods(client):
    document = (await client.get("/openapi.json")).json()
    for template, item in document["paths"].items():
        if not template.startswith("/api/"):
            continue
        path = template.replace("{", "").replace("}", "")  # any id: routing ignores it
        path = path.replace("ticket_id", "1").replace("receipt_id", "2")
        path = path.replace("category_id", "3").replace("payment_id", "4")
        path = path.replace("employee_id", "5")
        response = await client.options(path)
        assert response.status_code == 204, (template, response.text)
        assert allowed(response) == {m.upper() for m in item} | {"OPTIONS"}, template


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/api/tickets/decisions"),
        ("GET", "/api/tickets/decisions"),
        ("DELETE", "/api/categories"),
        ("PUT", "/api/tickets/1"),
        ("POST", "/api/users/me"),
    ],
)
async def test_an_undeclared_method_is_a_405_naming_the_methods_the_path_takes(
    client, method, path
):
    response = await client.request(method, path, json={})

    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert allowed(response) == PATHS[path] | {"OPTIONS"}


async def test_declared_methods_still_reach_their_routes(client, factory):
    alice = await factory.employee()

    listed = await client.get("/api/tickets", headers=alice.headers)
    decided = await client.post("/api/tickets/decisions", json={}, headers=alice.headers)

    assert listed.status_code == 200
    assert decided.status_code == 403
