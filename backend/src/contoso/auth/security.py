"""The app's credential machinery, built once from settings: hashing, tokens, throttling,
invitation codes, password reset tokens, single sign-on, and who may sign up."""

from dataclasses import dataclass
from datetime import timedelta

from contoso.auth.hashing import PasswordHasher
from contoso.auth.invitation_codes import InvitationCodes
from contoso.auth.reset_tokens import ResetTokens
from contoso.auth.sso import SingleSignOn
from contoso.auth.throttle import LoginThrottle
from contoso.auth.tokens import TokenCodec
from contoso.config import EmployeeSignup, EmployerSignup, Settings


@dataclass(frozen=True)
class Security:
    hasher: PasswordHasher
    tokens: TokenCodec
    throttle: LoginThrottle
    invitation_codes: InvitationCodes
    reset_tokens: ResetTokens
    # Who may register as an employer (EMPLOYER_SIGNUP), and as an employee without an
    # invitation (EMPLOYEE_SIGNUP, ALLOWED_EMAIL_DOMAINS).
    employer_signup: EmployerSignup
    employee_signup: EmployeeSignup
    allowed_email_domains: tuple[str, ...]
    # Single sign-on (OIDC_*), and whether it is the only way in (SSO_ONLY).
    sso: SingleSignOn | None
    sso_only: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> "Security":
        if settings.secret_key is None:
            raise RuntimeError("settings need a secret key (Settings.with_secret)")
        secret = settings.secret_key.get_secret_value()
        return cls(
            hasher=PasswordHasher(settings.password_hash_rounds),
            tokens=TokenCodec(
                secret,
                timedelta(minutes=settings.access_token_minutes),
            ),
            throttle=LoginThrottle(
                settings.login_rate_limit,
                settings.login_account_rate_limit,
                settings.login_rate_limit_storage,
                settings.password_reset_rate_limit,
            ),
            invitation_codes=InvitationCodes(secret),
            reset_tokens=ResetTokens(secret),
            employer_signup=settings.employer_signup,
            employee_signup=settings.employee_signup,
            allowed_email_domains=tuple(settings.allowed_email_domains),
            sso=SingleSignOn.from_settings(settings),
            sso_only=settings.sso_only,
        )
