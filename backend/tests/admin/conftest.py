import pytest
from httpx import AsyncClient

from tests.support.console import ConsoleBrowser


@pytest.fixture
def browser(client: AsyncClient) -> ConsoleBrowser:
    return ConsoleBrowser(client)
