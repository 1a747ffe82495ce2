"""What can be checked of the Docker deployment without a Docker engine: that the
compose file and .env.example agree with the settings class, and that the
container's commands are the code path the suite runs, over TCP."""

import asyncio
import ipaddress
import os
import re
import shlex
from pathlib import Path

import asyncpg
import httpx
import pytest
import yaml

from contoso.config import Settings
from tests.support.databases import recreate_database
from tests.support.servers import (
    CONTOSO,
    PRODUCTION,
    contoso_env,
    free_port,
    run_contoso,
    start_process,
    stop_server,
    wait_ready,
)

REPO = Path(__file__).resolve().parents[2]


class ComposeLoader(yaml.SafeLoader):
    """YAML with compose's merge tags (`!reset`, `!override`) read as plain values."""


for _tag in ("!reset", "!override"):
    ComposeLoader.add_constructor(
        _tag,
        lambda loader, node: (
            loader.construct_sequence(node)
            if isinstance(node, yaml.SequenceNode)
            else (
                loader.construct_mapping(node)
                if isinstance(node, yaml.MappingNode)
                else loader.construct_scalar(node)
            )
        ),
    )


def _compose(name: str) -> dict:
    text = (REPO / name).read_text()
    return yaml.load(text, Loader=ComposeLoader)  # noqa: S506 (SafeLoader plus two tags)


COMPOSE = _compose("docker-compose.yml")
SCALE = _compose("docker-compose.scale.yml")
DOCKERFILE = (REPO / "backend" / "Dockerfile").read_text()
# Variables that configure compose itself, not the app.
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "APP_PORT", "POSTGRES_USER", "POSTGRES_DB"}
SETTINGS = {name.upper() for name in Settings.model_fields}
TCP_DATABASE = os.environ.get(
    "CI_EXTERNAL_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _example_names() -> list[str]:
    text = (REPO / ".env.example").read_text()
    return re.findall(r"^#?\s?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE)


def test_env_example_lists_every_setting_and_nothing_else():
    listed = set(_example_names())
    assert listed >= SETTINGS, f"missing from .env.example: {sorted(SETTINGS - listed)}"
    assert listed <= SETTINGS | COMPOSE_ONLY, f"unknown: {sorted(listed - SETTINGS - COMPOSE_ONLY)}"


def test_compose_passes_only_known_settings_to_the_app():
    for name in ("app", "migrate"):
        service = COMPOSE["services"][name]
        assert service["env_file"] == ".env"
        assert set(service["environment"]) <= SETTINGS
    assert set(SCALE["services"]["app"]["environment"]) <= SETTINGS


def test_compose_refuses_to_start_without_a_real_secret():
    for name in ("app", "migrate"):
        secret = COMPOSE["services"][name]["environment"]["SECRET_KEY"]
        assert secret.startswith("${SECRET_KEY:?"), "compose must stop when SECRET_KEY is unset"
    assert "ENVIRONMENT=production" in DOCKERFILE  # the app refuses placeholders and short keys


def test_compose_starts_nothing_before_its_database_is_ready():
    services = COMPOSE["services"]
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["app"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert "pgdata" in COMPOSE["volumes"]


def _container_commands() -> tuple[list[str], list[str]]:
    migrate = COMPOSE["services"]["migrate"]["command"]
    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE, flags=re.MULTILINE).group(1)
    serve = yaml.safe_load(cmd)
    return migrate, serve


def test_the_containers_commands_migrate_then_serve_over_tcp(tmp_path):
    try:
        url = asyncio.run(recreate_database(TCP_DATABASE, "contoso_deploy_check"))
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL over TCP at {TCP_DATABASE}: {exc}")
    migrate, serve = _container_commands()
    assert migrate[0] == serve[0] == "contoso"
    env = contoso_env(
        tmp_path,
        url,
        **PRODUCTION,
        WORKERS="2",
        LOG_FORMAT="json",
    )

    migrated = run_contoso(migrate[1:], env)
    assert migrated.returncode == 0, migrated.stderr

    port = str(free_port())
    argv = [CONTOSO, *serve[1:]]
    argv[argv.index("--port") + 1] = port
    argv[argv.index("--host") + 1] = "127.0.0.1"
    process = start_process(argv, env, tmp_path / "container.log")
    base = f"http://127.0.0.1:{port}"
    try:
        ready = wait_ready(base, process)
        registered = httpx.post(
            f"{base}/api/auth/register",
            json={"email": "ops@example.com", "password": "password-1234", "username": "Ops"},
            headers={"X-Request-ID": "deploy-check-1"},
        )
    finally:
        output = stop_server(process)

    assert ready.status_code == 200, output
    assert registered.status_code == 201
    assert registered.headers["x-request-id"] == "deploy-check-1"
    assert '"request_id": "deploy-check-1"' in output  # structured logs carry the id
    assert "(2 workers)" in output


def test_the_dockerfile_builds_from_the_lock_as_a_non_root_user():
    assert "uv sync --frozen --no-dev --no-install-project" in DOCKERFILE
    assert DOCKERFILE.index("COPY pyproject.toml uv.lock") < DOCKERFILE.index("COPY src")
    assert re.search(r"^USER contoso$", DOCKERFILE, flags=re.MULTILINE)
    assert "HEALTHCHECK" in DOCKERFILE and "/readyz" in DOCKERFILE
    assert shlex.split("contoso migrate") == COMPOSE["services"]["migrate"]["command"]


def test_scaled_out_apps_trust_the_load_balancers_forwarded_for_and_nobody_elses():
    app, lb = SCALE["services"]["app"], SCALE["services"]["lb"]
    lb_address = lb["networks"]["edge"]["ipv4_address"]
    subnet = SCALE["networks"]["edge"]["ipam"]["config"][0]["subnet"]

    # Left at 127.0.0.1, nginx's header would be ignored and every client would share
    # nginx's address: ten bad passwords from anyone would lock an account for all.
    assert app["environment"]["FORWARDED_ALLOW_IPS"] == lb_address
    assert ipaddress.ip_address(lb_address) in ipaddress.ip_network(subnet)
    assert "edge" in app["networks"]
    assert "X-Forwarded-For" in (REPO / "deploy" / "nginx.conf").read_text()
