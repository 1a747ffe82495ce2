"""Settings read from the environment (or a `.env` file), validated at startup."""

import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_SECRET_BYTES = 32
# Values people copy from examples; production refuses any secret containing one.
PLACEHOLDER_SECRETS = ("change", "secret-key", "example", "placeholder", "xxxx")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class EmployerSignup(StrEnum):
    """Who may register as an employer: anyone, holders of an invitation, or nobody
    (employers then come from `contoso create-employer` alone)."""

    OPEN = "open"
    INVITE = "invite"
    CLOSED = "closed"


def _default_employer_signup(earlier: dict[str, Any]) -> EmployerSignup:
    production = earlier.get("environment") is Environment.PRODUCTION
    return EmployerSignup.INVITE if production else EmployerSignup.OPEN


class Settings(BaseSettings):
    """Every setting the app reads. `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    # Unset: `contoso serve` starts an embedded PostgreSQL under `data_dir`.
    database_url: str | None = None
    secret_key: SecretStr | None = None
    # Holds the embedded database and the generated development secret.
    data_dir: Path = Path(".data")

    access_token_minutes: int = Field(default=120, ge=1, le=60 * 24 * 30)
    password_hash_rounds: int = Field(default=12, ge=4, le=31)

    # Unset: open in development and tests (the brief's flow), invite in production.
    employer_signup: EmployerSignup = Field(default_factory=_default_employer_signup)

    # Login attempts per account and client, not followed by a correct password,
    # before 429 (`limits` syntax).
    login_rate_limit: str = "10 per 15 minutes"
    # Where the counts live: per process by default; async+redis://host:6379 to share.
    login_rate_limit_storage: str = "async+memory://"

    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    # Seconds a request waits for a pooled connection or a new one before 503.
    db_timeout: float = Field(default=5.0, gt=0)

    # Larger request bodies get 413; a 10,000-ticket bulk decision is about 100 KiB.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # The largest receipt file accepted (each); upload routes allow bodies this large.
    receipt_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)

    # uvicorn worker processes for `contoso serve` (each has its own DB pool).
    workers: int = Field(default=1, ge=1, le=64)
    # Host headers the app answers to; ["*"] accepts any (set your domain in production).
    trusted_hosts: Annotated[list[str], NoDecode] = ["*"]
    # Proxies whose X-Forwarded-For/-Proto are believed (the load balancer's address).
    forwarded_allow_ips: str = "127.0.0.1"
    # "text" for people, "json" for log collectors; either way with request ids.
    log_format: Literal["text", "json"] = "text"

    # IANA time zone in which the console and the pages show times (the zone is named).
    timezone: str = "UTC"

    docs_enabled: bool = True
    # Served over HTTPS (directly or behind a proxy): session cookies become Secure.
    https: bool = False
    log_level: str = "info"
    cors_origins: Annotated[list[str], NoDecode] = []

    @field_validator("database_url")
    @classmethod
    def _use_asyncpg(cls, url: str | None) -> str | None:
        if not url:
            return None
        # Accept the URL people already have (psql style) and pick our driver.
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+asyncpg://" + url.removeprefix(prefix)
        if not url.startswith("postgresql+asyncpg://"):
            raise ValueError(
                "DATABASE_URL must be a PostgreSQL URL, e.g. "
                "postgresql+asyncpg://user:password@host:5432/dbname"
            )
        return url

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"TIMEZONE must be an IANA time zone name such as UTC or Europe/Paris, "
                f"not {name!r}"
            ) from exc
        return name

    @field_validator("cors_origins", "trusted_hosts", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def _production_is_strict(self) -> Self:
        if self.environment is not Environment.PRODUCTION:
            return self
        problem = secret_problem(self.secret_key)
        if problem:
            raise ValueError(f"SECRET_KEY {problem} (required in production)")
        if not self.database_url:
            raise ValueError("DATABASE_URL is required in production")
        if self.password_hash_rounds < 10:
            raise ValueError("PASSWORD_HASH_ROUNDS must be at least 10 in production")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    def with_secret(self) -> "Settings":
        """Return settings whose secret is set, generating a development one if needed.

        The generated secret is kept in `data_dir` so tokens and sessions survive
        a restart; production never gets here without a real secret.
        """
        if self.secret_key is not None:
            return self
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return self.model_copy(update={"secret_key": SecretStr(path.read_text().strip())})


def secret_problem(secret: SecretStr | None) -> str | None:
    """Why a secret is unfit for production, or None if it is fine."""
    if secret is None or not secret.get_secret_value():
        return "is missing"
    value = secret.get_secret_value()
    if any(marker in value.lower() for marker in PLACEHOLDER_SECRETS):
        return "is a placeholder"
    if len(value.encode()) < MIN_SECRET_BYTES:
        return f"is shorter than {MIN_SECRET_BYTES} bytes"
    return None


@lru_cache
def get_settings() -> Settings:
    return Settings()
