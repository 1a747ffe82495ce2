"""The browser tests' served app: `contoso serve` on the test database."""

import pytest

from tests.support.servers import contoso_env, start_server, stop_server, wait_ready


@pytest.fixture
def server(tmp_path, database_url, app):
    process, url = start_server(contoso_env(tmp_path, database_url))
    try:
        wait_ready(url, process)
        yield url
    finally:
        stop_server(process)
