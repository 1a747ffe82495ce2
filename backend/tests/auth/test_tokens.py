import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

SECRET = "test-only-signing-key-with-enough-bytes-0123456789"


def _unsigned(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _claims(user_id: int, **overrides) -> dict:
    now = datetime.now(UTC)
    return {
        "sub": str(user_id),
        "ver": 0,
        "iat": now,
        "exp": now + timedelta(minutes=5),
    } | overrides


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda uid: _unsigned(_claims(uid, iat=0, exp=2**40)), id="alg-none"),
        pytest.param(
            lambda uid: jwt.encode(_claims(uid), "another-key-" * 4, algorithm="HS256"),
            id="other-key",
        ),
        pytest.param(
            lambda uid: jwt.encode(
                _claims(uid, exp=datetime.now(UTC) - timedelta(seconds=1)),
                SECRET,
                algorithm="HS256",
            ),
            id="expired",
        ),
        pytest.param(
            lambda uid: jwt.encode(
                {k: v for k, v in _claims(uid).items() if k != "exp"}, SECRET, algorithm="HS256"
            ),
            id="no-exp",
        ),
        pytest.param(
            lambda uid: jwt.encode(
                {k: v for k, v in _claims(uid).items() if k != "sub"}, SECRET, algorithm="HS256"
            ),
            id="no-sub",
        ),
        pytest.param(lambda uid: jwt.encode(_claims(uid), SECRET, algorithm="HS512"), id="hs512"),
        pytest.param(lambda uid: "not.a.token", id="garbage"),
    ],
)
async def test_forged_or_stale_tokens_are_refused(client, factory, forge):
    account = await factory.employee()

    response = await client.get(
        "/api/users/me", headers={"Authorization": f"Bearer {forge(account.id)}"}
    )

    assert response.status_code == 401


async def test_a_correctly_signed_token_for_the_same_claims_works(client, factory):
    # Guards the test above: the forgeries fail for their flaw, not for the claims.
    account = await factory.employee()
    token = jwt.encode(_claims(account.id), SECRET, algorithm="HS256")

    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200


async def test_a_deleted_users_token_is_refused(client, factory, app):
    from sqlalchemy import text

    account = await factory.employee()
    async with app.state.database.engine.begin() as connection:
        await connection.execute(text("DELETE FROM users WHERE id = :id"), {"id": account.id})

    response = await client.get("/api/users/me", headers=account.headers)

    assert response.status_code == 401


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"sub": str(2**63)}, id="sub-beyond-bigint"),
        pytest.param({"sub": str(-(2**63) - 1)}, id="sub-below-bigint"),
        pytest.param({"sub": "0"}, id="sub-zero"),
        pytest.param({"sub": "9" * 5000}, id="sub-too-long-to-read"),
        pytest.param({"sub": "1e3"}, id="sub-not-an-integer"),
        pytest.param({"ver": 2**63}, id="ver-beyond-bigint"),
    ],
)
async def test_a_correctly_signed_token_whose_ids_cannot_name_a_user_is_refused(
    client, factory, claims
):
    # Only we sign tokens, yet an id no bigint can hold must be a 401, never a 500
    # from the database.
    account = await factory.employee()
    token = jwt.encode(_claims(account.id) | claims, SECRET, algorithm="HS256")

    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json()["detail"].startswith("Your session has expired or is invalid")
