import pytest
from pydantic import ValidationError

from contoso.config import Settings

STRONG = "9f2c1e7a4b8d6f03a5c2e9b1d7f4a6c8e0b3d5f7a9c1e3b5"


def production(**overrides):
    values = {
        "environment": "production",
        "database_url": "postgresql://app:pw@db:5432/contoso",
        "secret_key": STRONG,
    } | overrides
    return Settings(_env_file=None, **values)


def test_production_accepts_a_strong_secret_and_a_database():
    settings = production()
    assert settings.is_production
    assert settings.database_url == "postgresql+asyncpg://app:pw@db:5432/contoso"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"secret_key": None}, "SECRET_KEY is missing"),
        ({"secret_key": "change-me-change-me-change-me-change-me"}, "SECRET_KEY is a placeholder"),
        ({"secret_key": "tooshort"}, "shorter than 32 bytes"),
        ({"database_url": None}, "DATABASE_URL is required"),
        ({"password_hash_rounds": 4}, "PASSWORD_HASH_ROUNDS must be at least 10"),
        ({"database_url": "mysql://x@y/z"}, "must be a PostgreSQL URL"),
    ],
)
def test_production_refuses_unsafe_settings_at_startup(overrides, message):
    with pytest.raises(ValidationError, match=message):
        production(**overrides)


def test_development_generates_and_keeps_a_secret(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path)

    first = settings.with_secret().secret_key.get_secret_value()
    second = settings.with_secret().secret_key.get_secret_value()

    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/d")
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example.com, https://b.example.com")

    settings = Settings(_env_file=None)

    assert settings.database_url == "postgresql+asyncpg://u@h/d"
    assert settings.cors_origins == ["https://a.example.com", "https://b.example.com"]


def test_an_unknown_time_zone_stops_start_up_with_what_to_write():
    with pytest.raises(ValidationError, match="IANA time zone name such as UTC or Europe/Paris"):
        Settings(_env_file=None, timezone="Mars/Olympus")
    assert Settings(_env_file=None, timezone="Asia/Shanghai").zone.key == "Asia/Shanghai"


def test_production_answers_only_public_urls_host_unless_told_otherwise():
    own = production(public_url="https://expenses.example.com:8443/")
    listed = production(trusted_hosts="expenses.example.com, *.contoso.example")

    assert own.trusted_hosts == ["expenses.example.com"]
    assert listed.trusted_hosts == ["expenses.example.com", "*.contoso.example"]
    # Development and tests answer any host (localhost, a LAN address, a test client).
    assert Settings(_env_file=None).trusted_hosts == ["*"]


def test_production_refuses_any_host(monkeypatch):
    monkeypatch.setenv("TRUSTED_HOSTS", "*")
    with pytest.raises(ValidationError, match="TRUSTED_HOSTS=\\* is refused in production"):
        production()


def test_employee_sign_up_defaults_to_open_in_development_and_invite_in_production():
    assert Settings(_env_file=None).employee_signup == "open"
    assert production().employee_signup == "invite"
    # Domains given: only their addresses register, in any environment.
    assert production(allowed_email_domains="example.com").employee_signup == "domain"
    assert Settings(_env_file=None, allowed_email_domains="example.com").employee_signup == "domain"


def test_allowed_domains_are_read_as_addresses_are_stored():
    settings = Settings(
        _env_file=None, allowed_email_domains=" Example.COM, @exämple.org,,xn--exmple-cua.org"
    )

    assert settings.allowed_email_domains == ["example.com", "exämple.org"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"employee_signup": "domain"},
            "EMPLOYEE_SIGNUP=domain needs ALLOWED_EMAIL_DOMAINS: set it to the domains",
        ),
        (
            {"employee_signup": "open", "allowed_email_domains": "example.com"},
            "ALLOWED_EMAIL_DOMAINS is only read with EMPLOYEE_SIGNUP=domain, not open",
        ),
        (
            {"allowed_email_domains": "example.com, not a domain"},
            "ALLOWED_EMAIL_DOMAINS must be domain names separated by commas",
        ),
        ({"employee_signup": "everyone"}, "Input should be 'open', 'domain' or 'invite'"),
    ],
)
def test_a_sign_up_setting_that_cannot_work_stops_start_up_saying_what_to_set(overrides, message):
    with pytest.raises(ValidationError, match=message):
        production(**overrides)


SSO = {
    "oidc_issuer": "https://login.example.com/realms/staff/",
    "oidc_client_id": "contoso-expenses",
    "oidc_client_secret": "from-the-provider",
}


def test_single_sign_on_is_on_with_its_three_settings():
    settings = production(**SSO, sso_only=True)
    assert settings.sso_enabled and settings.sso_only
    assert settings.oidc_issuer == "https://login.example.com/realms/staff"
    assert not production().sso_enabled


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"oidc_issuer": SSO["oidc_issuer"]}, "OIDC_CLIENT_ID, OIDC_CLIENT_SECRET missing"),
        (SSO | {"oidc_client_secret": ""}, "OIDC_CLIENT_SECRET missing"),
        ({"sso_only": True}, "SSO_ONLY=true needs single sign-on"),
        (SSO | {"oidc_issuer": "http://login.example.com"}, "https:// address in production"),
        (SSO | {"oidc_issuer": "login.example.com"}, "OIDC_ISSUER must be the provider's issuer"),
    ],
)
def test_a_single_sign_on_setting_that_cannot_work_stops_start_up(overrides, message):
    with pytest.raises(ValidationError, match=message):
        production(**overrides)
