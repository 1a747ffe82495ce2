"""HTML forms as a person submits them: fetch the page, send its CSRF token back."""

import re
from typing import Any

from httpx import AsyncClient, Response

CSRF_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(response: Response) -> str:
    """The CSRF token in the page's form; fails the test if the page has none."""
    match = CSRF_TOKEN.search(response.text)
    assert match, f"no CSRF token in {response.request.url}"
    return match.group(1)


async def submit_form(client: AsyncClient, url: str, data: dict[str, Any]) -> Response:
    """GET the page at `url`, then POST `data` back to it with the page's CSRF token."""
    page = await client.get(url)
    return await client.post(url, data=data | {"csrf_token": csrf_from(page)})
