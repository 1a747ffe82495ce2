"""JSON bodies as RFC 8259 and I-JSON (RFC 7493) define them: finite numbers and
Unicode text only.

Python's json module, which FastAPI decodes bodies with, also reads NaN, Infinity, numbers
too large for a double (as infinity) and lone surrogate escapes ("\\udfff"). None of them
can be stored, and a validation error that echoes one cannot be encoded (a 500). So they
are refused here, before FastAPI reads the body, with a 422 that says why.
"""

import json
import math
import re
import sys
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contoso.validation import FINITE_NUMBERS_ONLY, unreadable

# No operation reads a body on these; they pass untouched (most requests are GETs).
_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})
# Escapes or characters that may decode to a surrogate: only then are strings searched.
_MAY_HOLD_SURROGATES = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")


class UnreadableJson(ValueError):
    """A JSON body that parses but cannot be used; the message says why."""


def _refuse_constant(name: str) -> Any:
    raise UnreadableJson(FINITE_NUMBERS_ONLY)


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise UnreadableJson(FINITE_NUMBERS_ONLY)
    return value


def check_json(body: bytes) -> None:
    """Raise UnreadableJson if `body` holds a number that is not finite or too long to
    read, or text that is not Unicode. Other flaws (bad syntax or encoding, nesting too
    deep) are left for FastAPI to report as it does."""
    try:
        # As json.loads(bytes) decodes, which is how FastAPI reads the body.
        text = body.decode(json.detect_encoding(body), "surrogatepass")
    except UnicodeDecodeError:
        return
    try:
        parsed = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except UnreadableJson:
        raise
    except (json.JSONDecodeError, RecursionError):
        return
    except ValueError as exc:  # an integer longer than Python reads (int_max_str_digits)
        raise UnreadableJson(
            f"Numbers must have at most {sys.get_int_max_str_digits():,} digits"
        ) from exc
    if _MAY_HOLD_SURROGATES.search(text):
        reason = unreadable(parsed)
        if reason:
            raise UnreadableJson(reason)


def _is_json(content_type: str) -> bool:
    # The media types FastAPI decodes as JSON.
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class StrictJsonMiddleware:
    """Answer 422 to a JSON body holding NaN, Infinity, a number too large to hold or
    too long to read, or a lone surrogate, in the shape of FastAPI's validation errors."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in _NO_BODY
            or not _is_json(Headers(scope=scope).get("content-type", ""))
        ):
            await self.app(scope, receive, send)
            return
        # BodySizeLimitMiddleware, outside this one, has bounded the body already.
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            check_json(body)
        except UnreadableJson as exc:
            error = {"type": "json_invalid", "loc": ["body"], "msg": str(exc)}
            await JSONResponse({"detail": [error]}, status_code=422)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body once, then the client's own messages (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
