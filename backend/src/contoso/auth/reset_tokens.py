"""Password reset tokens: made from a random nonce and SECRET_KEY, stored only as a hash.

As with invitation codes (`auth.invitation_codes`), the reset email is rendered when the
sender delivers it, from its outbox row, which holds the nonce and never the token: the
sender derives the token again. The `password_resets` table keeps the token's SHA-256.
Someone who reads the database (or a backup) without the secret learns no usable link.
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

# HMAC-SHA256, base64url without padding: 43 characters.
TOKEN_LENGTH = 43


@dataclass(frozen=True)
class ResetTokens:
    """Tokens of this app's secret: `issue` a new one, or derive one again (`token_for`)."""

    secret: str = field(repr=False)

    def issue(self) -> tuple[str, str]:
        """A new (nonce, token): 256 random bits in the nonce, as many in the token."""
        nonce = secrets.token_urlsafe(32)
        return nonce, self.token_for(nonce)

    def token_for(self, nonce: str) -> str:
        """The token `nonce` stands for under this secret, URL-safe."""
        digest = hmac.new(
            self.secret.encode(), b"password-reset:" + nonce.encode(), hashlib.sha256
        ).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    """What is stored of a token. High-entropy and single-use: a plain SHA-256 suffices.
    Any text hashes (a malformed token simply matches no link); characters that are not
    Unicode text (half a surrogate pair) are replaced, which matches none either."""
    return hashlib.sha256(token.encode(errors="replace")).hexdigest()
