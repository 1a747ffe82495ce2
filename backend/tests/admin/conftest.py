import re

import pytest
from httpx import AsyncClient, Response

from tests.factories import PASSWORD, Account

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(response: Response) -> str:
    match = CSRF.search(response.text)
    assert match, f"no CSRF token in {response.request.url}"
    return match.group(1)


class Browser:
    """An httpx client used like a browser on the console: cookies, forms, CSRF tokens."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    async def login(self, email: str, password: str = PASSWORD) -> Response:
        page = await self.client.get("/admin/login")
        return await self.client.post(
            "/admin/login",
            data={"username": email, "password": password, "csrf_token": csrf_from(page)},
        )

    async def login_as(self, account: Account) -> None:
        response = await self.login(account.email)
        assert response.status_code == 302, response.text
        assert response.headers["location"].endswith("/admin/")

    async def confirm(self, view: str, action: str, pks: list[int], **fields: str) -> Response:
        """GET the action's confirmation page, then submit its form as a person would."""
        page = await self.client.get(
            f"/admin/{view}/action/{action}", params={"pks": ",".join(map(str, pks))}
        )
        assert page.status_code == 200, page.text
        return await self.client.post(
            f"/admin/{view}/action/{action}",
            data={"pks": ",".join(map(str, pks)), "csrf_token": csrf_from(page)} | fields,
        )

    @property
    def session_cookie(self) -> str | None:
        return self.client.cookies.get("contoso_session")


@pytest.fixture
def browser(client: AsyncClient) -> Browser:
    return Browser(client)
