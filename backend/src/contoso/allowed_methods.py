"""Which methods each API path takes, answered once for every path: OPTIONS lists them
in `Allow` (204), and a method the path does not take is a 405 with the same `Allow`.

Starlette alone answers 405 naming the methods of the first route that matched the
path only (`Allow: GET` on `/api/categories`, which takes POST too), answers OPTIONS
405, and lets `PATCH /api/tickets/decisions` fall through to `/api/tickets/{ticket_id}`
(a 422 about the id). Here the methods come from the app's OpenAPI document, the
contract clients read, and a path belongs to the most specific template that matches
it, as in OpenAPI: `/api/tickets/decisions` before `/api/tickets/{ticket_id}`.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from re import Pattern
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
_PARAMETER = re.compile(r"\{[^}]+\}")


@dataclass(frozen=True)
class PathMethods:
    """One path template, the methods it takes, and how specific it is."""

    template: str
    regex: Pattern[str]
    methods: frozenset[str]

    @property
    def parameters(self) -> int:
        return self.template.count("{")

    @property
    def allow(self) -> str:
        return ", ".join(sorted(self.methods | {"OPTIONS"}))


def path_methods(document: dict[str, Any], prefix: str) -> list[PathMethods]:
    """The path templates under `prefix` of an OpenAPI `document` with the methods each
    one takes, the most specific first (fewest parameters)."""
    templates = []
    for template, item in document.get("paths", {}).items():
        if template.startswith(prefix):
            parts = _PARAMETER.split(template)
            regex = re.compile("[^/]+".join(re.escape(part) for part in parts))
            methods = frozenset(method.upper() for method in item if method in _METHODS)
            templates.append(PathMethods(template, regex, methods))
    return sorted(templates, key=lambda item: item.parameters)


class AllowedMethodsMiddleware:
    """OPTIONS and undeclared methods on the API's paths, answered from the app's
    OpenAPI document (`openapi`, called at the first request: every route is there)."""

    def __init__(
        self, app: ASGIApp, openapi: Callable[[], dict[str, Any]], prefix: str = "/api/"
    ) -> None:
        self.app = app
        self.openapi = openapi
        self.prefix = prefix
        self.templates: list[PathMethods] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        if self.templates is None:
            self.templates = path_methods(self.openapi(), self.prefix)
        owner = next((item for item in self.templates if item.regex.fullmatch(path)), None)
        method = scope["method"]
        if owner is None or method in owner.methods:
            await self.app(scope, receive, send)
            return
        if method == "OPTIONS":
            await _answer(send, 204, owner.allow, None)
        else:
            await _answer(send, 405, owner.allow, {"detail": "Method Not Allowed"})


async def _answer(send: Send, status: int, allow: str, body: dict[str, str] | None) -> None:
    content = b"" if body is None else json.dumps(body).encode()
    headers = [(b"allow", allow.encode())]
    if body is not None:
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(content)).encode()),
        ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})
