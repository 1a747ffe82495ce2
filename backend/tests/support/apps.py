"""An app of a test's own, on the same database, for settings the shared one lacks."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from contoso.config import Settings
from contoso.main import create_app


@asynccontextmanager
async def app_with(
    settings: Settings, **overrides: Any
) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    """The app for `settings` with `overrides`, and a client of it; its decoders and its
    connections are closed on the way out."""
    application = create_app(settings.model_copy(update=overrides))
    transport = ASGITransport(app=application)
    try:
        async with AsyncClient(transport=transport, base_url="http://test") as http:
            yield application, http
    finally:
        application.state.receipt_cleaner.close()
        await application.state.database.dispose()
