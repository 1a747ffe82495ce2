"""Settings read from the environment (or a `.env` file), validated at startup."""

import secrets
from email.headerregistry import Address
from email.policy import default as email_policy
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from contoso.currency_codes import is_currency, unknown_currency
from contoso.smtp_url import SmtpServer, parse_smtp_url

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


class EmployeeSignup(StrEnum):
    """Who may register as an employee without an invitation: anyone, addresses under
    ALLOWED_EMAIL_DOMAINS, or nobody (every employee is invited)."""

    OPEN = "open"
    DOMAIN = "domain"
    INVITE = "invite"


def _default_employee_signup(earlier: dict[str, Any]) -> EmployeeSignup:
    if earlier.get("allowed_email_domains"):
        return EmployeeSignup.DOMAIN
    production = earlier.get("environment") is Environment.PRODUCTION
    return EmployeeSignup.INVITE if production else EmployeeSignup.OPEN


DEFAULT_PASSWORD_RESET_RATE_LIMIT = "5 per hour"  # noqa: S105 (a rate, not a secret)
DEFAULT_MAIL_FROM = "Contoso Expenses <expenses@example.com>"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


class Settings(BaseSettings):
    """Every setting the app reads. `.env.example` documents each one."""

    # hide_input_in_errors: a refused value is not echoed, so an error never prints a
    # secret (SECRET_KEY, a password in DATABASE_URL or SMTP_URL); messages say what is wrong.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

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
    # The domains whose addresses may register as employees under `domain` (each with
    # its subdomains), in the form addresses are stored in (`_email_domains`).
    allowed_email_domains: Annotated[list[str], NoDecode] = []
    # Unset: domain when ALLOWED_EMAIL_DOMAINS is set; else open in development and
    # tests, invite in production.
    employee_signup: EmployeeSignup = Field(default_factory=_default_employee_signup)

    # Login attempts per account and client, not followed by a correct password,
    # before 429 (`limits` syntax).
    login_rate_limit: str = "10 per 15 minutes"
    # Attempts per account from all clients together past which each client is paced
    # on it (one attempt per window/count seconds), never locked out (auth.throttle).
    login_account_rate_limit: str = "100 per 15 minutes"
    # Where the counts live: per process by default; async+redis://host:6379 to share.
    login_rate_limit_storage: str = "async+memory://"
    # Password reset requests per email address and client, known address or not,
    # before 429: each may send an email, so few, but enough for a mistyped first try.
    password_reset_rate_limit: str = DEFAULT_PASSWORD_RESET_RATE_LIMIT

    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    # Seconds a request waits for a pooled connection or a new one before 503.
    db_timeout: float = Field(default=5.0, gt=0)

    # Larger request bodies get 413; a 10,000-ticket bulk decision is about 100 KiB.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # The largest receipt file accepted (each); upload routes allow bodies this large.
    receipt_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # Receipt images are decoded in separate processes, each job under a CPU-time limit
    # (a 49-megapixel PNG takes about 2.5 s) and each process under a memory limit (a
    # 50-megapixel photo is about 200 MB decoded, twice that while turned upright).
    receipt_decoders: int = Field(default=2, ge=1, le=64)
    receipt_decode_seconds: int = Field(default=10, ge=1, le=600)
    receipt_decode_memory_mb: int = Field(default=1536, ge=256)
    # Uploads being received, decoded or stored at once, per user and per process;
    # beyond them 429 with Retry-After.
    receipt_uploads_per_user: int = Field(default=4, ge=1)
    receipt_uploads_per_process: int = Field(default=16, ge=1)

    # uvicorn worker processes for `contoso serve` (each has its own DB pool).
    workers: int = Field(default=1, ge=1, le=64)
    # Host headers the app answers to (others get 400); "*" accepts any. Unset: any in
    # development and tests, PUBLIC_URL's host in production, which refuses "*".
    trusted_hosts: Annotated[list[str], NoDecode] = []
    # Proxies whose X-Forwarded-For/-Proto are believed (the load balancer's address).
    forwarded_allow_ips: str = "127.0.0.1"
    # "text" for people, "json" for log collectors; either way with request ids.
    log_format: Literal["text", "json"] = "text"

    # IANA time zone in which the console and the pages show times (the zone is named).
    timezone: str = "UTC"
    # ISO 4217 code of the currency the company reimburses in: limits, totals and
    # payments are in it. Recorded in the database when it is created, and fixed then.
    company_currency: str = "USD"

    # The mail server (see `smtp_url`); unset: emails are written to
    # DATA_DIR/outbox/ as .eml files and logged.
    smtp_url: SecretStr | None = None
    # The sender of every email, an address with an optional name.
    mail_from: str = DEFAULT_MAIL_FROM
    # Where people reach the app: the base of the links in emails.
    public_url: str = DEFAULT_PUBLIC_URL
    # Employers get the digest of tickets waiting for a decision at most this often.
    digest_hours: int = Field(default=12, ge=1, le=24 * 31)

    docs_enabled: bool = True

    # Single sign-on through an OpenID provider (auth.sso): its issuer URL (where
    # /.well-known/openid-configuration is), and this app's client there. All three or none.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    # The button reads "Sign in with {OIDC_BUTTON_LABEL}".
    oidc_button_label: str = Field(default="single sign-on", min_length=1, max_length=40)
    # A value of the ID token's `groups` claim that makes an account single sign-on
    # creates an employer; unset: it creates employees only.
    oidc_employer_group: str | None = None
    # Password login only for employers made by `contoso create-employer` (the way in
    # when the provider is down); everyone else signs in through the provider.
    sso_only: bool = False

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

    @field_validator("company_currency")
    @classmethod
    def _known_currency(cls, code: str) -> str:
        if not is_currency(code.upper()):
            raise ValueError(f"COMPANY_CURRENCY: {unknown_currency(code)}")
        return code.upper()

    @field_validator("smtp_url")
    @classmethod
    def _known_smtp_url(cls, url: SecretStr | None) -> SecretStr | None:
        if url is None or not url.get_secret_value().strip():
            return None
        parse_smtp_url(url.get_secret_value())
        return url

    @field_validator("mail_from")
    @classmethod
    def _mail_address(cls, value: str) -> str:
        example = "an email address, optionally with a name: Contoso <expenses@example.com>"
        try:
            parsed = email_policy.header_factory("from", value)
            (address,) = parsed.addresses
            checked = validate_email(address.addr_spec, check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValueError(f"MAIL_FROM must be {example}; {exc}") from None
        except (ValueError, IndexError, TypeError):
            raise ValueError(f"MAIL_FROM must be {example}, not {value!r}") from None
        if parsed.defects:
            raise ValueError(f"MAIL_FROM must be {example}, not {value!r}")
        return str(Address(display_name=address.display_name, addr_spec=checked.normalized))

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, url: str) -> str:
        url = url.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                "PUBLIC_URL must be the http:// or https:// address people open the app "
                f"at, e.g. https://expenses.example.com, not {url!r}"
            )
        if parts.query or parts.fragment:
            raise ValueError("PUBLIC_URL must be a plain address, without ? or #")
        return url

    @field_validator("allowed_email_domains", mode="before")
    @classmethod
    def _email_domains(cls, value: object) -> object:
        names = value.split(",") if isinstance(value, str) else value
        if not isinstance(names, list):
            return value
        domains = []
        for name in (str(name).strip().removeprefix("@") for name in names):
            if not name:
                continue
            try:
                # Normalised as addresses are (auth.schemas.normalise_email), so the
                # domain of a stored address compares equal to it.
                checked = validate_email(f"x@{name}", check_deliverability=False)
            except EmailNotValidError:
                raise ValueError(
                    f"ALLOWED_EMAIL_DOMAINS must be domain names separated by commas, e.g. "
                    f"example.com,example.org; {name!r} is not one"
                ) from None
            domains.append(checked.domain.lower())
        return list(dict.fromkeys(domains))

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

    @model_validator(mode="after")
    def _employee_signup_fits(self) -> Self:
        if self.employee_signup is EmployeeSignup.DOMAIN and not self.allowed_email_domains:
            raise ValueError(
                "EMPLOYEE_SIGNUP=domain needs ALLOWED_EMAIL_DOMAINS: set it to the domains "
                "whose addresses may register, e.g. ALLOWED_EMAIL_DOMAINS=example.com"
            )
        if self.employee_signup is not EmployeeSignup.DOMAIN and self.allowed_email_domains:
            raise ValueError(
                f"ALLOWED_EMAIL_DOMAINS is only read with EMPLOYEE_SIGNUP=domain, not "
                f"{self.employee_signup.value}: set EMPLOYEE_SIGNUP=domain, or remove "
                f"ALLOWED_EMAIL_DOMAINS"
            )
        return self

    @field_validator("oidc_issuer")
    @classmethod
    def _issuer_address(cls, url: str | None) -> str | None:
        if not url or not url.strip():
            return None
        url = url.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError(
                "OIDC_ISSUER must be the provider's issuer address, e.g. "
                f"https://login.example.com/realms/staff, not {url!r}"
            )
        return url

    @model_validator(mode="after")
    def _single_sign_on_whole(self) -> Self:
        parts = {
            "OIDC_ISSUER": self.oidc_issuer,
            "OIDC_CLIENT_ID": self.oidc_client_id,
            "OIDC_CLIENT_SECRET": self.oidc_client_secret,
        }
        missing = [name for name, value in parts.items() if not value]
        if missing and len(missing) < len(parts):
            raise ValueError(
                f"single sign-on needs OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET "
                f"together; {', '.join(missing)} missing"
            )
        if self.sso_only and missing:
            raise ValueError("SSO_ONLY=true needs single sign-on: set OIDC_ISSUER and the rest")
        if self.is_production and self.oidc_issuer and urlsplit(self.oidc_issuer).scheme != "https":
            raise ValueError("OIDC_ISSUER must be an https:// address in production")
        return self

    @property
    def sso_enabled(self) -> bool:
        return self.oidc_issuer is not None

    @model_validator(mode="after")
    def _own_hosts_in_production(self) -> Self:
        # The console builds its links from the Host header: in production only the
        # app's own names may be that header (see contoso.hosts).
        if not self.is_production:
            self.trusted_hosts = self.trusted_hosts or ["*"]
            return self
        if "*" in self.trusted_hosts:
            raise ValueError(
                "TRUSTED_HOSTS=* is refused in production: the console writes the Host "
                "header it is sent into its links, so any host would do. List your "
                "domain(s), or leave TRUSTED_HOSTS unset to answer PUBLIC_URL's host."
            )
        host = urlsplit(self.public_url).hostname
        self.trusted_hosts = self.trusted_hosts or ([host] if host else [])
        return self

    @model_validator(mode="after")
    def _real_mail_in_production(self) -> Self:
        # Real mail from the example sender is refused by receivers, and links to
        # 127.0.0.1 lead nowhere: a production that sends mail names both.
        if self.environment is not Environment.PRODUCTION or self.smtp_url is None:
            return self
        if self.mail_from == DEFAULT_MAIL_FROM:
            raise ValueError("MAIL_FROM must be set in production when SMTP_URL is")
        if self.public_url == DEFAULT_PUBLIC_URL:
            raise ValueError("PUBLIC_URL must be set in production when SMTP_URL is")
        return self

    @property
    def smtp_server(self) -> SmtpServer | None:
        """The mail server SMTP_URL names, or None: write emails to files."""
        if self.smtp_url is None:
            return None
        return parse_smtp_url(self.smtp_url.get_secret_value())

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
