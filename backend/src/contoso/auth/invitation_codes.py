"""Invitation codes: made from a random nonce and SECRET_KEY, stored only as a hash.

The invitation email is rendered when the sender delivers it, from the outbox row: the
row holds the nonce, never the code, and the sender derives the code again. Someone
who reads the database (or a backup of it) without the secret learns no usable code.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

# Read aloud or typed from a chat: no 0/O or 1/I/L to confuse. 12 of 31 symbols is
# 59 bits, and a code only works for its own email and role, once, for a week.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_GROUPS, _GROUP_LENGTH = 3, 4


@dataclass(frozen=True)
class InvitationCodes:
    """Codes of this app's secret: `issue` a new one, or derive one again (`code_for`)."""

    secret: str = field(repr=False)

    def issue(self) -> tuple[str, str]:
        """A new (nonce, code)."""
        nonce = secrets.token_urlsafe(16)
        return nonce, self.code_for(nonce)

    def code_for(self, nonce: str) -> str:
        """The code `nonce` stands for under this secret: `K7QX-M2PD-9HTR`."""
        digest = hmac.new(
            self.secret.encode(), b"invitation-code:" + nonce.encode(), hashlib.sha256
        ).digest()
        # 256 bits taken 12 times modulo 31: the bias is far below one in a billion.
        number = int.from_bytes(digest)
        symbols = []
        for _ in range(_GROUPS * _GROUP_LENGTH):
            number, index = divmod(number, len(CODE_ALPHABET))
            symbols.append(CODE_ALPHABET[index])
        return "-".join(
            "".join(symbols[start : start + _GROUP_LENGTH])
            for start in range(0, len(symbols), _GROUP_LENGTH)
        )


def code_hash(code: str) -> str:
    """What is stored of a code, however a person typed it (case, spaces and dashes do
    not matter). High-entropy and single-use: a plain SHA-256 suffices."""
    normalised = "".join(char for char in code.upper() if char.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()
