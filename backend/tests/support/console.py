"""The employer console driven over HTTP the way a browser drives it."""

from httpx import AsyncClient, Response

from tests.support.factories import PASSWORD, Account
from tests.support.forms import csrf_from, submit_form


class ConsoleBrowser:
    """An httpx client used like a browser on the console: cookies, forms, CSRF tokens."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    async def login(self, email: str, password: str = PASSWORD) -> Response:
        return await submit_form(
            self.client, "/admin/login", {"username": email, "password": password}
        )

    async def login_as(self, account: Account) -> None:
        response = await self.login(account.email)
        assert response.status_code == 303, response.text
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
