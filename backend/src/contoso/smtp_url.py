"""What `SMTP_URL` means: the mail server, how to secure the connection, and who to log
in as.

    smtp://host[:port]                  port 587; STARTTLS when the server offers it
    smtp://user:password@host[:port]    STARTTLS required (no password in the clear)
    smtps://user:password@host[:port]   port 465; TLS from the first byte
    ...?starttls=required|opportunistic|never   (smtp:// only) to choose otherwise

Credentials are URL-decoded (`p%40ss` is `p@ss`). Certificates are always verified.
"""

import enum
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

SCHEMES = {"smtp": 587, "smtps": 465}


class StartTls(enum.StrEnum):
    """For `smtp://`: upgrade the connection with STARTTLS always (refusing a server
    that does not offer it), when the server offers it, or never (a local relay)."""

    REQUIRED = "required"
    OPPORTUNISTIC = "opportunistic"
    NEVER = "never"


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    # smtps://: TLS from the first byte (then STARTTLS does not apply).
    implicit_tls: bool
    starttls: StartTls
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def describe(self) -> str:
        """The server as a log line may show it: no password."""
        if self.implicit_tls:
            security = "TLS"
        else:
            security = {
                StartTls.REQUIRED: "STARTTLS required",
                StartTls.OPPORTUNISTIC: "STARTTLS when offered",
                StartTls.NEVER: "no TLS",
            }[self.starttls]
        login = f", as {self.username}" if self.username else ""
        return f"{self.host}:{self.port} ({security}{login})"


def parse_smtp_url(url: str) -> SmtpServer:
    """The server `url` names; ValueError saying what is wrong (never repeating the
    password)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        # urllib's message may quote part of a password: say what to check instead.
        raise ValueError(
            "SMTP_URL is not a valid URL: check the port, and URL-encode the characters "
            "/ ? # @ : in the user name and password (%2F %3F %23 %40 %3A)"
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(
            "SMTP_URL must start with smtp:// (STARTTLS) or smtps:// (TLS), e.g. "
            "smtp://user:password@mail.example.com:587"
        )
    if not parts.hostname:
        raise ValueError("SMTP_URL names no host, e.g. smtp://mail.example.com:587")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError("SMTP_URL takes a host, a port and ?starttls=, nothing else")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if bool(username) != bool(password):
        raise ValueError("SMTP_URL gives a user name or a password without the other")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(options) - {"starttls"})
    if unknown:
        raise ValueError(f"SMTP_URL has unknown options: {', '.join(unknown)} (only starttls)")
    implicit_tls = scheme == "smtps"
    chosen = options.get("starttls")
    if chosen is not None and implicit_tls:
        raise ValueError("SMTP_URL: smtps:// is TLS from the start; starttls= is for smtp://")
    if chosen is None:
        # Credentials never travel unencrypted unless the URL says `starttls=never`.
        starttls = StartTls.REQUIRED if username or implicit_tls else StartTls.OPPORTUNISTIC
    else:
        try:
            starttls = StartTls(chosen.lower())
        except ValueError:
            choices = ", ".join(choice.value for choice in StartTls)
            raise ValueError(f"SMTP_URL: starttls must be one of {choices}") from None
    return SmtpServer(
        host=parts.hostname,
        port=port or SCHEMES[scheme],
        implicit_tls=implicit_tls,
        starttls=starttls,
        username=username,
        password=password,
    )
