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
        # Production's default is invite-only: this check's employee registers unasked.
        EMPLOYEE_SIGNUP="open",
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


# The scale file as compose reads it: merged over the base file. deploy/check-image renders
# both with a compose implementation; these tests check what the merged result means.


class _Reset:
    """`!reset` in an override file: the key goes back to unset."""


class _Override:
    """`!override` in an override file: the value replaces the base's instead of merging."""

    def __init__(self, value: object) -> None:
        self.value = value


class ComposeMergeLoader(yaml.SafeLoader):
    """YAML with compose's merge tags kept as markers, for `_merge`."""


ComposeMergeLoader.add_constructor("!reset", lambda loader, node: _Reset())
ComposeMergeLoader.add_constructor(
    "!override",
    lambda loader, node: _Override(
        loader.construct_sequence(node, deep=True)
        if isinstance(node, yaml.SequenceNode)
        else (
            loader.construct_mapping(node, deep=True)
            if isinstance(node, yaml.MappingNode)
            else loader.construct_scalar(node)
        )
    ),
)
# Sequences compose replaces rather than appends when an override file sets them.
REPLACED_SEQUENCES = {"command", "entrypoint", "test"}


def _merge(base: object, override: object, key: str = "") -> object:
    """`override` over `base` by the compose specification's merge rules, as far as these
    files use them: mappings merge key by key, sequences append (but for commands), and
    `!reset` / `!override` unset or replace."""
    if isinstance(override, _Override):
        return override.value
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for name, value in override.items():
            if isinstance(value, _Reset):
                merged.pop(name, None)
            elif name in merged:
                merged[name] = _merge(merged[name], value, name)
            else:
                merged[name] = _merge(None, value, name)
        return merged
    if isinstance(base, list) and isinstance(override, list) and key not in REPLACED_SEQUENCES:
        return base + [item for item in override if item not in base]
    if isinstance(override, dict):
        return _merge({}, override, key)
    return override


def _scaled() -> dict:
    def load(name: str) -> dict:
        return yaml.load((REPO / name).read_text(), Loader=ComposeMergeLoader)  # noqa: S506

    return _merge(load("docker-compose.yml"), load("docker-compose.scale.yml"))


def test_merging_follows_composes_rules_for_the_tags_the_scale_file_uses():
    base = {"ports": ["8000:8000"], "command": ["a"], "environment": {"A": "1"}}
    override = {"ports": _Reset(), "command": ["b"], "environment": {"B": "2"}}

    merged = _merge(base, override)

    assert merged == {"command": ["b"], "environment": {"A": "1", "B": "2"}}
    assert _merge({"x": [1]}, {"x": _Override([2])}) == {"x": [2]}


def test_scaled_out_only_the_load_balancer_publishes_a_port():
    services = _scaled()["services"]
    published = {name: service["ports"] for name, service in services.items() if "ports" in service}

    # With the base file's port kept, the replicas would fight over APP_PORT.
    assert published == {"lb": ["${APP_PORT:-8000}:80"]}
    assert COMPOSE["services"]["app"]["ports"] == ["${APP_PORT:-8000}:8000"]


def test_scaled_out_replicas_wait_for_everything_they_use():
    services = _scaled()["services"]
    app, lb = services["app"], services["lb"]

    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert app["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "healthcheck" in services["redis"]
    # The app has no healthcheck of its own in compose: nginx waits on the image's.
    assert lb["depends_on"]["app"]["condition"] == "service_healthy"
    assert "healthcheck" not in app and "HEALTHCHECK" in DOCKERFILE


def test_scaled_out_every_name_and_port_the_services_use_exists():
    merged = _scaled()
    services, app = merged["services"], merged["services"]["app"]
    nginx = (REPO / "deploy" / "nginx.conf").read_text()

    storage = app["environment"]["LOGIN_RATE_LIMIT_STORAGE"]
    assert storage.startswith("async+redis://redis:") and "redis" in services
    upstream_host, upstream_port = re.search(r"server (\w+):(\d+) resolve;", nginx).groups()
    assert upstream_host == "app"
    assert f"EXPOSE {upstream_port}" in DOCKERFILE
    assert _container_commands()[1][-2:] == ["8000", "--no-migrate"]  # serve's --port
    # Docker's embedded DNS, which answers with every replica of `app`.
    assert "resolver 127.0.0.11" in nginx
    assert set(app["networks"]) == {"default", "edge"}
    assert set(services["lb"]["networks"]) == {"edge"}
    for service in services.values():
        for network in service.get("networks", []):
            assert network == "default" or network in merged["networks"]


def test_every_variable_the_compose_files_read_is_documented():
    names = set()
    for name in ("docker-compose.yml", "docker-compose.scale.yml"):
        names |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (REPO / name).read_text()))

    assert names, "the compose files read no variables?"
    assert names <= set(_example_names()), f"not in .env.example: {names - set(_example_names())}"


def test_what_compose_builds_and_mounts_is_in_the_repository():
    for name, service in _scaled()["services"].items():
        if "build" in service:
            assert (REPO / service["build"] / "Dockerfile").is_file(), name
        for volume in service.get("volumes", []):
            if volume.startswith("./"):
                assert (REPO / volume.split(":")[0]).is_file(), volume


def test_the_dockerfile_takes_its_base_and_a_ca_bundle_as_build_inputs():
    first_from = DOCKERFILE.index("\nFROM ")
    # Plain `docker build backend/` still builds on the registry's python image.
    assert DOCKERFILE.index("\nARG PYTHON_IMAGE=python:3.12-slim\n") < first_from
    assert "\nFROM ${PYTHON_IMAGE} AS base\n" in DOCKERFILE
    downloads = [
        step
        for step in re.split(r"\n(?=[A-Z]+ )", DOCKERFILE)
        if step.startswith("RUN ") and ("pip install" in step or "uv sync" in step)
    ]
    assert len(downloads) == 3
    for step in downloads:
        assert step.startswith("RUN --mount=type=secret,id=ca,required=false "), step
    # The bundle serves the build only: no ENV or COPY keeps it in the image.
    assert not re.search(r"^(ENV|COPY|ADD)\b.*(SSL_CERT|PIP_CERT|secrets)", DOCKERFILE, re.M)


def test_ci_builds_and_runs_the_image_with_the_containers_commands():
    script = REPO / "deploy" / "check-image"
    text = script.read_text()

    assert os.access(script, os.X_OK)
    assert text.startswith("#!/usr/bin/env bash\n") and "\nset -euo pipefail\n" in text
    # The commands compose runs: migrate's own, then the image's default CMD.
    assert f'"$IMAGE" {shlex.join(COMPOSE["services"]["migrate"]["command"])}' in text
    assert "WORKERS=2" in text and "<!-- api-story:start -->" in text
    assert "../deploy/check-image" in (REPO / ".ci" / "run").read_text()


def test_compose_runs_the_app_in_production_whatever_the_env_file_says():
    # .env (copied from .env.example, which says development) is read by env_file;
    # `environment:` wins over it, so the deployment is production with its strict checks
    # and EMPLOYER_SIGNUP=invite.
    for name in ("app", "migrate"):
        assert COMPOSE["services"][name]["environment"]["ENVIRONMENT"] == "production"
