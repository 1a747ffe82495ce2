"""A JSON response for hot read paths that builds plain dicts instead of models."""

from decimal import Decimal
from typing import Any

import orjson
from starlette.responses import JSONResponse


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


class FastJSONResponse(JSONResponse):
    """orjson, with datetimes as pydantic writes them ("...Z" for UTC).

    Used where validating dozens of rows through pydantic models would cost more
    than the query; the endpoint still declares its response model for the docs,
    and tests compare both paths' output.
    """

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=_default, option=orjson.OPT_UTC_Z)
