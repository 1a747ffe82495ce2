import asyncio

import pytest

from contoso.auth.hashing import PasswordHasher
from tests.support.factories import PASSWORD


async def test_register_returns_a_working_token_and_normalised_email(client):
    response = await client.post(
        "/api/auth/register",
        json={
            "email": "  Ada@Example.COM ",
            "password": PASSWORD,
            "username": "Ada",
            "role": "employee",
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["user"]["email"] == "ada@example.com"
    me = await client.get(
        "/api/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["username"] == "Ada"
    assert me.json()["role"] == "employee"


async def test_register_twice_with_the_same_email_in_another_case_is_409(client, factory):
    await factory.employee(email="dup@example.com")

    response = await client.post(
        "/api/auth/register",
        json={"email": "DUP@example.com", "password": PASSWORD, "username": "x"},
    )

    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


async def test_concurrent_registrations_with_one_email_create_exactly_one_account(client, figures):
    body = {"email": "race@example.com", "password": PASSWORD, "username": "Racer"}

    responses = await asyncio.gather(
        *(client.post("/api/auth/register", json=body) for _ in range(50))
    )

    codes = sorted(response.status_code for response in responses)
    assert codes == [201] + [409] * 49
    figures.add("races: 50 registrations, one email", requests=50, created=codes.count(201))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "email"),
        ("password", "short", "at least 8 characters"),
        ("password", "x" * 1025, "at most 1024 characters"),
        ("username", "   ", "The name must not be blank"),
        ("role", "admin", "'employee' or 'employer'"),
    ],
)
async def test_register_refuses_bad_input_with_a_clear_422(client, field, value, message):
    body = {"email": "ok@example.com", "password": PASSWORD, "username": "Ok", field: value}

    response = await client.post("/api/auth/register", json=body)

    assert response.status_code == 422
    assert message in str(response.json()["detail"])
    login = await client.post(
        "/api/auth/login", json={"email": "ok@example.com", "password": PASSWORD}
    )
    assert login.status_code == 401  # nothing was half-written


async def test_register_refuses_fields_it_does_not_know(client):
    response = await client.post(
        "/api/auth/register",
        json={"email": "m@example.com", "password": PASSWORD, "username": "M", "suspended": False},
    )
    assert response.status_code == 422


async def test_login_with_the_right_password_works_in_any_email_case(client, factory):
    account = await factory.employee(email="case@example.com")

    response = await client.post(
        "/api/auth/login", json={"email": "CASE@example.com", "password": PASSWORD}
    )

    assert response.status_code == 200
    assert response.json()["user"]["id"] == account.id


async def test_unknown_email_and_wrong_password_get_the_same_401(client, factory):
    await factory.employee(email="known@example.com")

    unknown = await client.post(
        "/api/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )
    wrong = await client.post(
        "/api/auth/login", json={"email": "known@example.com", "password": "wrong-password"}
    )

    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json() == {"detail": "Incorrect email or password."}


async def test_login_hashes_once_whether_or_not_the_email_exists(client, factory, monkeypatch):
    await factory.employee(email="known@example.com")
    calls = []
    original = PasswordHasher.verify

    async def counting(self, password, password_hash):
        calls.append(password_hash is not None)
        return await original(self, password, password_hash)

    monkeypatch.setattr(PasswordHasher, "verify", counting)

    await client.post("/api/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
    await client.post(
        "/api/auth/login", json={"email": "known@example.com", "password": "wrong-one"}
    )

    assert calls == [False, True]


async def test_long_non_ascii_passwords_work_and_are_not_truncated(client):
    password = "密码🔑" * 50  # 150 characters, 550 bytes: far past bcrypt's 72-byte limit
    await client.post(
        "/api/auth/register",
        json={"email": "long@example.com", "password": password, "username": "Long"},
    )

    right = await client.post(
        "/api/auth/login", json={"email": "long@example.com", "password": password}
    )
    # Same first 72 bytes and more: plain bcrypt would accept this one.
    near = await client.post(
        "/api/auth/login", json={"email": "long@example.com", "password": password[:-1] + "x"}
    )

    assert right.status_code == 200
    assert near.status_code == 401


async def test_a_legacy_bcrypt_hash_still_logs_in_and_is_upgraded(client, factory, app):
    import bcrypt
    from sqlalchemy import text

    account = await factory.employee()
    legacy = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    async with app.state.database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET password_hash = :hash WHERE id = :id"),
            {"hash": legacy, "id": account.id},
        )

    response = await client.post(
        "/api/auth/login", json={"email": account.email, "password": PASSWORD}
    )

    assert response.status_code == 200
    async with app.state.database.engine.connect() as connection:
        stored = await connection.scalar(
            text("SELECT password_hash FROM users WHERE id = :id"), {"id": account.id}
        )
    assert stored.startswith("$bcrypt-sha256$")
    again = await client.post(
        "/api/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    assert again.status_code == 200


async def test_the_oauth2_token_form_used_by_docs_authorize_works(client, factory):
    account = await factory.employer(email="form@example.com")

    response = await client.post(
        "/api/auth/token", data={"username": "Form@Example.com", "password": PASSWORD}
    )

    assert response.status_code == 200
    token = response.json()["access_token"]
    me = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["id"] == account.id


async def test_me_without_a_token_is_401_with_a_hint(client):
    response = await client.get("/api/users/me")
    assert response.status_code == 401
    assert "Log in first" in response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"
