"""The Host header a request names is never written back into an answer's links.

Starlette's `url_for` (SQLAdmin's redirects and templates use it) builds absolute URLs
from the Host header, so `Host: evil.com` came back as `Location: http://evil.com/...`:
what a shared cache or a poisoning proxy needs. Production answers only its own hosts
(TRUSTED_HOSTS, by default PUBLIC_URL's: `config.Settings`); everywhere, redirects to
this app's own pages carry the path alone, and the console's templates link their pages
and files by path.
"""

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jinja2
from starlette.datastructures import URL, Headers, MutableHeaders
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class TrustedHostsMiddleware:
    """Starlette's Host check (400 for other hosts), except for paths `exempt` says
    build no link: health checks come from a load balancer or the container's own
    HEALTHCHECK, which ask by address (127.0.0.1), not by the public name."""

    def __init__(
        self, app: ASGIApp, allowed_hosts: Sequence[str], exempt: Callable[[str], bool]
    ) -> None:
        self._app = app
        self._checked = TrustedHostMiddleware(app, allowed_hosts=allowed_hosts)
        self._exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._exempt(scope["path"]):
            await self._app(scope, receive, send)
        else:
            await self._checked(scope, receive, send)


class RelativeRedirectMiddleware:
    """A redirect to this app's own host and scheme says only the path
    (`Location: /admin/login?next=...`), whoever built it (our handlers or SQLAdmin's,
    which use `url_for`); a browser resolves it against the address it asked."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        host = Headers(scope=scope).get("host") if scope["type"] == "http" else None
        if not host:
            await self._app(scope, receive, send)
            return
        own = (scope.get("scheme", "http"), host.lower())

        async def send_relative(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                location = headers.get("location")
                if location is not None:
                    headers["location"] = relative_to(own, location)
            await send(message)

        await self._app(scope, receive, send_relative)


def relative_to(own: tuple[str, str], location: str) -> str:
    """`location` without scheme and host when they are `own` (scheme, host), else as is."""
    parts = urlsplit(location)
    if (parts.scheme, parts.netloc.lower()) != own:
        return location
    return urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))


@jinja2.pass_context
def path_for(context: dict[str, Any], name: str, /, **path_params: Any) -> URL:
    """`url_for` for templates, giving the path alone: a page's links and files then
    never name the host the request was sent to."""
    request: Request = context["request"]
    return URL(request.url_for(name, **path_params).path)
