"""The `contoso` command as people run it: real processes, real databases."""

import httpx

from contoso.commands import DEMO_EMPLOYER, DEMO_PASSWORD
from tests.support.servers import (
    PRODUCTION,
    contoso_env,
    free_port,
    run_contoso,
    start_server,
    stop_server,
    wait_ready,
)


def test_serve_with_no_configuration_embeds_postgres_and_stops_it_on_exit(tmp_path):
    process, url = start_server(contoso_env(tmp_path, None))
    try:
        ready = wait_ready(url, process)
        registered = httpx.post(
            f"{url}/api/auth/register",
            json={"email": "first@example.com", "password": "password-1234", "username": "First"},
        )
    finally:
        output = stop_server(process)

    assert ready.status_code == 200, output
    assert registered.status_code == 201
    assert f"API docs:  {url}/docs" in output
    assert "SECRET_KEY is not set" in output
    assert process.returncode == 0
    pgdata = tmp_path / "data" / "pgdata"
    assert (pgdata / "PG_VERSION").exists()
    assert not (pgdata / "postmaster.pid").exists()  # the server stopped with us

    # The data is kept and reused by the next run.
    process, url = start_server(contoso_env(tmp_path, None))
    try:
        wait_ready(url, process)
        login = httpx.post(
            f"{url}/api/auth/login",
            json={"email": "first@example.com", "password": "password-1234"},
        )
    finally:
        stop_server(process)
    assert login.status_code == 200


def test_serve_uses_database_url_when_set(tmp_path, database_url, app):
    process, url = start_server(contoso_env(tmp_path, database_url))
    try:
        ready = wait_ready(url, process)
    finally:
        stop_server(process)
    assert ready.status_code == 200
    assert not (tmp_path / "data" / "pgdata").exists()


def test_db_url_prints_a_url_psql_understands(tmp_path, database_url):
    result = run_contoso(["db-url"], contoso_env(tmp_path, database_url))
    assert result.returncode == 0
    assert result.stdout.strip() == database_url.replace("+asyncpg", "")


async def test_seed_demo_creates_accounts_that_log_in_and_runs_once(tmp_path, database_url, client):
    env = contoso_env(tmp_path, database_url)

    first = run_contoso(["seed-demo"], env)
    second = run_contoso(["seed-demo"], env)

    assert first.returncode == 0, first.stderr
    assert DEMO_PASSWORD in first.stdout
    assert "Already seeded" in second.stdout
    login = await client.post(
        "/api/auth/login", json={"email": DEMO_EMPLOYER, "password": DEMO_PASSWORD}
    )
    assert login.json()["user"]["role"] == "employer"
    token = login.json()["access_token"]
    tickets = await client.get("/api/tickets", headers={"Authorization": f"Bearer {token}"})
    statuses = {ticket["status"] for ticket in tickets.json()["items"]}
    assert statuses == {"pending", "approved", "denied"}
    assert tickets.json()["total"] == 9


def test_seed_demo_is_refused_in_production(tmp_path, database_url):
    env = contoso_env(tmp_path, database_url, **PRODUCTION)
    result = run_contoso(["seed-demo"], env)
    assert "refusing in production" in result.stdout


async def test_create_employer_prompts_for_a_password_that_then_logs_in(
    tmp_path, database_url, client
):
    env = contoso_env(tmp_path, database_url)

    created = run_contoso(
        ["create-employer", "Head@Example.com"], env, stdin="s3cret-pass\ns3cret-pass\n"
    )
    mismatch = run_contoso(
        ["create-employer", "other@example.com"], env, stdin="one-pass-1\ntwo-pass-2\n"
    )
    taken = run_contoso(
        ["create-employer", "head@example.com"], env, stdin="s3cret-pass\ns3cret-pass\n"
    )

    assert "Employer head@example.com created" in created.stdout, created.stderr
    assert mismatch.returncode != 0
    assert "passwords differ" in mismatch.stderr
    assert "already exists" in taken.stdout
    login = await client.post(
        "/api/auth/login", json={"email": "head@example.com", "password": "s3cret-pass"}
    )
    assert login.json()["user"]["role"] == "employer"


def test_invalid_configuration_is_reported_plainly(tmp_path):
    result = run_contoso(["migrate"], contoso_env(tmp_path, "mysql://nope@localhost/x"))
    assert result.returncode != 0
    assert "invalid configuration" in result.stderr
    assert "must be a PostgreSQL URL" in result.stderr


def test_another_company_currency_than_the_databases_stops_every_command_plainly(
    tmp_path, database_url
):
    env = contoso_env(tmp_path, database_url, COMPANY_CURRENCY="EUR")
    rates = tmp_path / "rates.csv"
    rates.write_text("GBP,0.85,2025-11-21\n")

    serve = ["serve", "--port", str(free_port())]

    for args in (["migrate"], serve, ["import-rates", str(rates)]):
        result = run_contoso(args, env)

        assert result.returncode != 0, args
        assert result.stderr.strip().endswith(
            "contoso: COMPANY_CURRENCY is EUR, but this database's amounts are in USD. Set "
            "COMPANY_CURRENCY=USD: the company currency is fixed when the database is created."
        ), result.stderr
        assert "Traceback" not in result.stderr
