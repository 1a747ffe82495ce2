from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from contoso.main import create_app
from tests.support.console import ConsoleBrowser
from tests.support.factories import Factory


@pytest.fixture
def browser(client: AsyncClient) -> ConsoleBrowser:
    return ConsoleBrowser(client)


@pytest.fixture
async def paris(settings, app) -> AsyncIterator[tuple[Any, ConsoleBrowser, Factory]]:
    """An app showing times in Europe/Paris (same database): the app, its console, a factory."""
    application = create_app(settings.model_copy(update={"timezone": "Europe/Paris"}))
    transport = ASGITransport(app=application)
    async with AsyncClient(transport=transport, base_url="http://test") as http:
        yield application, ConsoleBrowser(http), Factory(http)
    await application.state.database.dispose()
