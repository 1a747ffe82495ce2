"""Single sign-on with an OpenID provider (OIDC_ISSUER): the authorization code flow with
PKCE, through Authlib, which also verifies the ID token against the provider's published
keys (signature, issuer, audience, expiry, nonce).

The sign-in a browser starts is carried to the callback in a cookie of its own, encrypted
with a key derived from SECRET_KEY and lasting ten minutes: the session cookie is
SameSite=Strict, so a browser coming back from the provider (another site) does not send
it. The cookie binds the callback to the browser that started the sign-in: a callback
address opened in another browser, or after the cookie is gone, is refused.
"""

import hashlib
import hmac
import json
import logging
from base64 import urlsafe_b64encode
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import httpx2
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth
from cryptography.fernet import Fernet, InvalidToken
from joserfc.errors import JoseError

from contoso.auth.schemas import normalise_email
from contoso.config import Settings
from contoso.errors import ProviderUnavailable, SignInFailed

# Where the provider sends the browser back: register {PUBLIC_URL}/sso/callback there.
CALLBACK_PATH = "/sso/callback"
TRANSACTION_COOKIE = "contoso_sso"
TRANSACTION_SECONDS = 600

logger = logging.getLogger(__name__)

START_AGAIN = "Sign-in did not complete; start again from the login page."
PROVIDER_UNAVAILABLE = (
    "The identity provider could not be reached; try again in a moment, or ask whoever "
    "runs this service to check it."
)


class Door(StrEnum):
    """Where the sign-in started, and so where it ends: the pages or the console."""

    PAGES = "pages"
    CONSOLE = "console"


@dataclass(frozen=True)
class Transaction:
    """What a sign-in keeps between leaving for the provider and coming back."""

    state: str
    nonce: str
    code_verifier: str
    door: Door
    wanted: str


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in."""

    email: str
    email_verified: bool
    name: str
    groups: tuple[str, ...]


class SingleSignOn:
    """The app's client at the provider, built once from settings (None when unset)."""

    def __init__(self, settings: Settings) -> None:
        assert settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret
        assert settings.secret_key is not None, "settings need a secret key"
        self.issuer = settings.oidc_issuer
        self.label = settings.oidc_button_label
        self.employer_group = settings.oidc_employer_group
        self.redirect_uri = settings.public_url + CALLBACK_PATH
        self.secure_cookie = settings.https
        scopes = "openid email profile" + (" groups" if self.employer_group else "")
        self._client: Any = OAuth().register(
            "sso",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret.get_secret_value(),
            server_metadata_url=f"{settings.oidc_issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": scopes, "code_challenge_method": "S256", "timeout": 10},
        )
        key = hashlib.sha256(
            b"contoso sso transaction\0" + settings.secret_key.get_secret_value().encode()
        ).digest()
        self._cookies = Fernet(urlsafe_b64encode(key))

    @classmethod
    def from_settings(cls, settings: Settings) -> "SingleSignOn | None":
        return cls(settings) if settings.sso_enabled else None

    async def begin(self, door: Door, wanted: str) -> tuple[str, str]:
        """The provider's sign-in address to send the browser to, and the transaction
        cookie's value to set on that response."""
        with _provider_errors():
            metadata = await self._client.load_server_metadata()
            # OpenID Connect Discovery: the document must name the issuer it was read
            # from, else its keys and endpoints are another's.
            if metadata.get("issuer") != self.issuer:
                logger.error(
                    "single sign-on: OIDC_ISSUER is %r, the provider calls itself %r",
                    self.issuer,
                    metadata.get("issuer"),
                )
                raise ProviderUnavailable(PROVIDER_UNAVAILABLE)
            started = await self._client.create_authorization_url(self.redirect_uri)
        transaction = Transaction(
            started["state"], started["nonce"], started["code_verifier"], door, wanted
        )
        cookie = self._cookies.encrypt(json.dumps(asdict(transaction)).encode()).decode()
        return started["url"], cookie

    def transaction(self, cookie: str | None) -> Transaction:
        """The sign-in this browser started, from its cookie; SignInFailed if there is
        none (expired, never started here, or forged)."""
        try:
            data = json.loads(self._cookies.decrypt(cookie or "", ttl=TRANSACTION_SECONDS))
            return Transaction(**data | {"door": Door(data["door"])})
        except (InvalidToken, ValueError, TypeError, KeyError):
            raise SignInFailed(START_AGAIN) from None

    async def finish(self, transaction: Transaction, query: dict[str, str]) -> Identity:
        """The identity the provider vouches for, from its callback's query: the state
        must be the transaction's; the code is exchanged (with the PKCE verifier) for an
        ID token, verified, whose nonce must be the transaction's."""
        # As bytes: compare_digest refuses text that is not ASCII, which a query may hold.
        if not hmac.compare_digest(query.get("state", "").encode(), transaction.state.encode()):
            raise SignInFailed(START_AGAIN)
        # RFC 9207: a provider that names itself in the callback must be ours (a mix-up
        # with another provider the browser uses is refused before any code is sent).
        if query.get("iss", self.issuer) != self.issuer:
            raise SignInFailed(START_AGAIN)
        if "error" in query:
            # The person cancelled, or the provider refused them.
            reason = query.get("error_description") or query["error"]
            raise SignInFailed(f"The identity provider did not sign you in ({reason[:200]}).")
        if not query.get("code"):
            raise SignInFailed(START_AGAIN)
        with _provider_errors():
            token = await self._client.fetch_access_token(
                redirect_uri=self.redirect_uri,
                code=query["code"],
                code_verifier=transaction.code_verifier,
            )
            verified = await self._client.parse_id_token(token, nonce=transaction.nonce)
            if verified is None:
                raise SignInFailed("The identity provider sent no ID token; start again.")
            claims = dict(verified)
            # Many providers put the email and groups in the user info only.
            if "email" not in claims or (self.employer_group and "groups" not in claims):
                info = dict(await self._client.userinfo(token=token))
                if info.get("sub") != claims.get("sub"):
                    raise SignInFailed(START_AGAIN)
                claims = info | claims
        return _identity(claims)


def _identity(claims: dict[str, Any]) -> Identity:
    email = claims.get("email")
    if not isinstance(email, str) or not email:
        raise SignInFailed(
            "The identity provider did not say your email address; ask whoever runs it "
            "to release the email claim to this app."
        )
    # Stored and matched as every address is; one that is no address finds nobody, and
    # no account is made for it (the registration schema refuses it).
    email = normalise_email(email)
    name = claims.get("name") or claims.get("preferred_username") or email.partition("@")[0]
    groups = claims.get("groups")
    return Identity(
        email=email,
        # Entra ID says it as `xms_edov`: the address's domain is verified by its owner.
        email_verified=claims.get("email_verified") is True or claims.get("xms_edov") is True,
        name=str(name).strip()[:64] or email.partition("@")[0][:64],
        groups=tuple(str(group) for group in groups) if isinstance(groups, list) else (),
    )


@contextmanager
def _provider_errors() -> Iterator[None]:
    """Failures of the exchange as the person's errors: the provider unreachable or
    erring (ProviderUnavailable), its answer refused (SignInFailed). Logged either way:
    a misconfigured client (a wrong secret) shows only in the log."""
    try:
        yield
    except (SignInFailed, ProviderUnavailable):
        raise
    except (httpx2.HTTPStatusError, httpx2.TransportError) as exc:
        logger.warning("single sign-on: the identity provider failed: %r", exc)
        raise ProviderUnavailable(PROVIDER_UNAVAILABLE) from exc
    except (AuthlibBaseError, JoseError, ValueError, KeyError) as exc:
        # A used or stolen code, a token for another app, a wrong nonce or signature.
        logger.warning("single sign-on: refused the provider's answer: %r", exc)
        raise SignInFailed(START_AGAIN) from exc
