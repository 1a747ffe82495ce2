"""Behind a proxy: the throttle counts the real client a trusted proxy names, and
ignores what anyone else claims in X-Forwarded-For."""

import uuid

import httpx
import pytest

from tests.support.servers import contoso_env, start_server, stop_server, wait_ready

PASSWORD = "a long passphrase"


def _wrong_logins_then(url: str, email: str, guesser: str, other: str) -> tuple[list[int], int]:
    """Three wrong passwords from `guesser`, then one from `other` (as X-Forwarded-For)."""
    httpx.post(
        f"{url}/api/auth/register",
        json={"email": email, "password": PASSWORD, "username": "Proxied"},
    ).raise_for_status()
    codes = [
        httpx.post(
            f"{url}/api/auth/login",
            json={"email": email, "password": f"wrong-{n}"},
            headers={"X-Forwarded-For": guesser},
        ).status_code
        for n in range(4)
    ]
    from_other = httpx.post(
        f"{url}/api/auth/login",
        json={"email": email, "password": PASSWORD},
        headers={"X-Forwarded-For": other},
    )
    return codes, from_other.status_code


@pytest.mark.parametrize(
    ("trusted", "other_client_answer"),
    [
        # The proxy (here the test, on 127.0.0.1) is trusted: each client counts alone.
        ("127.0.0.1", 200),
        # An untrusted peer's header is ignored: everyone is that peer, and shares its count.
        ("10.255.255.1", 429),
    ],
)
def test_the_throttle_sees_the_client_a_trusted_proxy_names(
    tmp_path, database_url, app, trusted, other_client_answer
):
    env = contoso_env(
        tmp_path, database_url, FORWARDED_ALLOW_IPS=trusted, LOGIN_RATE_LIMIT="3 per minute"
    )
    process, url = start_server(env)
    try:
        wait_ready(url, process)
        codes, other = _wrong_logins_then(
            url, f"{uuid.uuid4().hex}@example.com", "203.0.113.5", "198.51.100.7"
        )
    finally:
        stop_server(process)

    assert codes == [401, 401, 401, 429]
    assert other == other_client_answer
