"""A real OpenID provider for the single sign-on tests: `oidc-provider` from the npm
registry, on the machine's Node, with in-memory clients and accounts (tests/support/oidc).
Its packages are installed from the lock file on first use (`npm ci`); without Node the
tests that need it are skipped, unless OIDC_REQUIRED is set, as CI sets it."""

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from tests.support.servers import free_port, start_process

PROVIDER_DIR = Path(__file__).parent / "oidc"
CLIENT_ID = "contoso-expenses"
CLIENT_SECRET = "the-test-client-secret-0123456789abcdef"

needs_node = pytest.mark.skipif(
    shutil.which("node") is None and not os.environ.get("OIDC_REQUIRED"),
    reason="Node.js is not installed; CI sets OIDC_REQUIRED",
)


@dataclass(frozen=True)
class IdentityProvider:
    issuer: str

    def settings(self, public_url: str) -> dict[str, Any]:
        """The app's settings for signing in here."""
        return {
            "public_url": public_url,
            "oidc_issuer": self.issuer,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": SecretStr(CLIENT_SECRET),
            "oidc_button_label": "Test ID",
        }

    def forge_audience(self, audience: str | None) -> None:
        """Make the provider's ID tokens name `audience` (None: their own again)."""
        answer = httpx.post(f"{self.issuer}/_test/audience", json={"audience": audience})
        answer.raise_for_status()


def _installed() -> None:
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=PROVIDER_DIR,
            check=True,
            timeout=300,
        )


@contextmanager
def identity_provider(
    log: Path, redirect_uris: list[str], accounts: dict[str, dict[str, Any]]
) -> Iterator[IdentityProvider]:
    """The provider on a free port, our client registered with `redirect_uris`, and
    `accounts` (each id an email, its value the claims) able to sign in."""
    _installed()
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    config = {
        "issuer": issuer,
        "port": port,
        "clients": [
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": redirect_uris,
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            }
        ],
        "accounts": accounts,
    }
    env = os.environ | {"OIDC_TEST_CONFIG": json.dumps(config)}
    process = start_process(["node", str(PROVIDER_DIR / "provider.mjs")], env, log)
    try:
        for _ in range(200):
            try:
                httpx.get(f"{issuer}/.well-known/openid-configuration").raise_for_status()
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    raise RuntimeError(f"the OpenID provider stopped: {log.read_text()}") from None
                time.sleep(0.05)
        yield IdentityProvider(issuer)
    finally:
        process.terminate()
        process.wait(10)
