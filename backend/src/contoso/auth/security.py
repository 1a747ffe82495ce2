"""The app's credential machinery, built once from settings: hashing, tokens, throttling,
and who may sign up as an employer."""

from dataclasses import dataclass
from datetime import timedelta

from contoso.auth.hashing import PasswordHasher
from contoso.auth.throttle import LoginThrottle
from contoso.auth.tokens import TokenCodec
from contoso.config import EmployerSignup, Settings


@dataclass(frozen=True)
class Security:
    hasher: PasswordHasher
    tokens: TokenCodec
    throttle: LoginThrottle
    # Who may register as an employer (EMPLOYER_SIGNUP).
    employer_signup: EmployerSignup

    @classmethod
    def from_settings(cls, settings: Settings) -> "Security":
        if settings.secret_key is None:
            raise RuntimeError("settings need a secret key (Settings.with_secret)")
        return cls(
            hasher=PasswordHasher(settings.password_hash_rounds),
            tokens=TokenCodec(
                settings.secret_key.get_secret_value(),
                timedelta(minutes=settings.access_token_minutes),
            ),
            throttle=LoginThrottle(
                settings.login_rate_limit,
                settings.login_account_rate_limit,
                settings.login_rate_limit_storage,
            ),
            employer_signup=settings.employer_signup,
        )
