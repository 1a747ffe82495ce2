"""What /docs and /openapi.json show: Swagger UI served by the app itself (no CDN, so
it works offline), readable operation ids, integer bounds kept exact, and links from
the operations that create records to those that use them."""

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.utils import generate_unique_id

from contoso.validation import MAX_RECORD_ID

# Under /docs, so these files are classified like the page itself: no session, and
# errors (a missing file) answered in JSON.
DOCS_ASSETS = "/docs/assets"
# fastapi-offline ships Swagger UI 5's bundle, stylesheet and a favicon in this folder.
_SWAGGER_UI_PACKAGE = ("fastapi_offline", "static")


def operation_id(route: APIRoute) -> str:
    """`tickets-approve` for `approve_ticket` under the tickets tag: the route's first tag,
    then its name without the tag's own noun. Generated clients name their functions
    after it, so it must stay stable; a test lists every one."""
    if not route.tags:
        return generate_unique_id(route)  # pages, left out of the schema
    tag = str(route.tags[0])
    singular = tag[:-3] + "y" if tag.endswith("ies") else tag.removesuffix("s")
    words = [word for word in route.name.split("_") if word not in (tag, singular)]
    return f"{tag}-{'-'.join(words) or route.name}"


def mount_docs(app: FastAPI) -> None:
    """Serve Swagger UI at /docs with its scripts and styles from the app, not a CDN.

    Create the app with `docs_url=None` so FastAPI's own CDN page is not served too.
    """
    app.mount(DOCS_ASSETS, StaticFiles(packages=[_SWAGGER_UI_PACKAGE]), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        assets = f"{root}{DOCS_ASSETS}"
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - API docs",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )


_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
# Bounds a float cannot hold exactly, by the float they become.
_EXACT_BOUNDS = {float(MAX_RECORD_ID): MAX_RECORD_ID}


def keep_integer_bounds(app: FastAPI) -> None:
    """Make /openapi.json state integer bounds as the integers the schemas declare.

    FastAPI re-reads the document through models that type bounds as floats, so `1`
    comes out as `1.0` and the largest record id, 2**63 - 1, as 9.223372036854776e18
    (that is 2**63, an id PostgreSQL refuses). Clients generated from the document
    would then accept it.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()  # cached by FastAPI; restoring twice changes nothing
        _restore_integers(document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented hook


def _restore_integers(node: object) -> None:
    if isinstance(node, list):
        for item in node:
            _restore_integers(item)
    elif isinstance(node, dict):
        if node.get("type") == "integer":
            for key in _BOUNDS:
                value = node.get(key)
                if isinstance(value, float) and value.is_integer():
                    node[key] = _EXACT_BOUNDS.get(value, int(value))
        for child in node.values():
            _restore_integers(child)


@dataclass(frozen=True)
class Feeds:
    """What one operation's answer feeds to others: `parameters` (name to a runtime
    expression, such as `$response.body#/id`) and the `body` fields (the request body's
    fields it fills, the rest left to the caller) for each operation in `to`."""

    source: str
    parameters: dict[str, str]
    to: tuple[str, ...]
    body: dict[str, Any] | None = None


_TICKET = {"ticket_id": "$response.body#/id"}
_FIRST_TICKET = {"ticket_id": "$response.body#/items/0/id"}
_ON_TICKET = (
    "tickets-get",
    "tickets-update",
    "tickets-history",
    "tickets-approve",
    "tickets-deny",
    "tickets-request-changes",
    "tickets-resubmit",
    "receipts-add",
    "comments-list",
    "comments-add",
)
_SAME_TICKET = {"ticket_id": "$request.path.ticket_id"}
# Which operation's answer names what another takes: links from each creating (or
# listing) operation to those that use its ids. Clients follow them, and so does the
# fuzzer's stateful phase, which otherwise only ever guesses ids that 404.
API_LINKS = (
    Feeds("tickets-create", _TICKET, _ON_TICKET),
    Feeds("tickets-list", _FIRST_TICKET, _ON_TICKET),
    Feeds("tickets-update", _TICKET, ("tickets-get", "tickets-history")),
    Feeds("tickets-request-changes", _TICKET, ("tickets-resubmit", "tickets-update")),
    Feeds("tickets-resubmit", _TICKET, ("tickets-approve", "tickets-deny")),
    Feeds(
        "receipts-add",
        _SAME_TICKET | {"receipt_id": "$response.body#/id"},
        ("receipts-get", "receipts-delete"),
    ),
    Feeds("comments-add", _SAME_TICKET, ("comments-list", "tickets-get")),
    Feeds(
        "payments-pay", {"payment_id": "$response.body#/id"}, ("payments-get", "payments-export")
    ),
    Feeds(
        "payments-list",
        {"payment_id": "$response.body#/items/0/id"},
        ("payments-get", "payments-export"),
    ),
    Feeds(
        "categories-create",
        {"category_id": "$response.body#/id"},
        ("categories-get", "categories-update"),
    ),
    Feeds(
        "categories-list",
        {"category_id": "$response.body#/0/id"},
        ("categories-get", "categories-update"),
    ),
    Feeds(
        "categories-list",
        {},
        ("tickets-create",),
        body={"category_id": "$response.body#/0/id"},
    ),
    Feeds(
        "categories-create",
        {},
        ("tickets-create",),
        body={"category_id": "$response.body#/id"},
    ),
    Feeds("tickets-create", {}, ("tickets-decide",), body={"ticket_ids": ["$response.body#/id"]}),
    Feeds(
        "tickets-list", {}, ("tickets-decide",), body={"ticket_ids": ["$response.body#/items/0/id"]}
    ),
    Feeds("tickets-approve", {}, ("payments-pay",), body={"ticket_ids": ["$response.body#/id"]}),
    Feeds(
        "auth-invite-employer",
        {},
        ("auth-register",),
        body={"email": "$response.body#/email", "invitation_code": "$response.body#/code"},
    ),
    Feeds(
        "auth-register",
        {},
        ("auth-login",),
        body={"email": "$request.body#/email", "password": "$request.body#/password"},
    ),
    Feeds(
        "auth-register",
        {},
        ("auth-token",),
        body={"username": "$request.body#/email", "password": "$request.body#/password"},
    ),
    Feeds("exchange-rates-add", {"currency": "$response.body#/currency"}, ("exchange-rates-list",)),
    Feeds(
        "auth-register",
        {"employee_id": "$response.body#/user/id"},
        ("employees-suspend", "employees-reactivate"),
    ),
    Feeds(
        "employees-list",
        {"employee_id": "$response.body#/items/0/id"},
        ("employees-suspend", "employees-reactivate"),
    ),
    Feeds("employees-suspend", {"employee_id": "$response.body#/id"}, ("employees-reactivate",)),
    Feeds("employees-reactivate", {"employee_id": "$response.body#/id"}, ("employees-suspend",)),
)


def add_links(app: FastAPI, declared: tuple[Feeds, ...] = API_LINKS) -> None:
    """Put the `declared` links in /openapi.json: on each source operation's successful
    JSON answer, one link per target, named after the target.

    An operation that creates (201) links from that answer only: its 200 is the replay
    of a request already made (the same Idempotency-Key, a rate already recorded),
    naming the record the 201 named. A link there would be one the fuzzer's stateful
    phase counts but can only reach by repeating a request exactly."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()  # cached by FastAPI; linking twice changes nothing
        operations = {
            operation["operationId"]: operation
            for item in document["paths"].values()
            for operation in item.values()
        }
        for feeds in declared:
            link: dict[str, Any] = {"parameters": feeds.parameters} if feeds.parameters else {}
            if feeds.body is not None:
                link["requestBody"] = feeds.body
            responses = operations[feeds.source]["responses"]
            successes = ["201"] if "201" in responses else [s for s in responses if s[0] == "2"]
            for status in successes:
                if "application/json" in responses[status].get("content", {}):
                    links = responses[status].setdefault("links", {})
                    links |= {target: {"operationId": target} | link for target in feeds.to}
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented hook
