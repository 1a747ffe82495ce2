async def test_healthz_says_the_process_is_up(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_says_the_database_answers(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def test_cors_is_off_unless_origins_are_configured(client):
    response = await client.options(
        "/api/tickets",
        headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in response.headers


async def test_configured_origins_may_call_the_api(settings):
    from httpx import ASGITransport, AsyncClient

    from contoso.main import create_app

    app = create_app(settings.model_copy(update={"cors_origins": ["https://app.example.com"]}))
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        response = await http.options(
            "/api/tickets",
            headers={
                "Origin": "https://app.example.com",
                "Access-Control-Request-Method": "GET",
            },
        )
    await app.state.database.dispose()
    assert response.headers["access-control-allow-origin"] == "https://app.example.com"


async def test_with_the_database_down_requests_fail_fast_with_503(settings):
    from httpx import ASGITransport, AsyncClient

    from contoso.main import create_app

    # Port 1 on loopback: nothing listens, so every connection is refused at once.
    down = settings.model_copy(
        update={"database_url": "postgresql+asyncpg://postgres@127.0.0.1:1/none", "db_timeout": 2}
    )
    app = create_app(down)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        ready = await http.get("/readyz")
        login = await http.post(
            "/api/auth/login", json={"email": "a@example.com", "password": "whatever-pw"}
        )
    await app.state.database.dispose()

    assert ready.status_code == 503
    assert login.status_code == 503
    assert login.json() == {
        "detail": "The database is unavailable right now; please retry shortly."
    }
    assert login.headers["retry-after"] == "5"


async def test_the_openapi_document_describes_the_api(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/tickets/{ticket_id}/approve" in paths
    assert "/api/employees/{employee_id}/suspend" in paths
    docs = await client.get("/docs")
    assert docs.status_code == 200


async def test_trusted_hosts_refuse_other_host_headers(settings):
    from httpx import ASGITransport, AsyncClient

    from contoso.main import create_app

    app = create_app(settings.model_copy(update={"trusted_hosts": ["expenses.example.com"]}))
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://expenses.example.com") as ok:
        allowed = await ok.get("/")
    async with AsyncClient(transport=transport, base_url="http://evil.example.com") as bad:
        refused = await bad.get("/")
    await app.state.database.dispose()
    assert allowed.status_code == 200
    assert refused.status_code == 400


async def test_every_response_carries_a_request_id(client):
    mine = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    generated = await client.get("/healthz")
    hostile = await client.get("/healthz", headers={"X-Request-ID": "bad id\\n<script>"})
    assert mine.headers["x-request-id"] == "abc-123"
    assert len(generated.headers["x-request-id"]) == 32
    assert hostile.headers["x-request-id"] != "bad id\\n<script>"
