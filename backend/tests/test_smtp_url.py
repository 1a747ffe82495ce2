"""SMTP_URL, MAIL_FROM, PUBLIC_URL and DIGEST_HOURS: read as documented, refused at
start-up with a message that says what to fix and never repeats a password."""

import pytest
from pydantic import ValidationError

from contoso.config import Settings
from contoso.smtp_url import SmtpServer, StartTls, parse_smtp_url

SECRET = "hunter2-secret"


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://mail.example.com",
            SmtpServer("mail.example.com", 587, False, StartTls.OPPORTUNISTIC),
        ),
        (
            "smtp://relay.internal:25?starttls=never",
            SmtpServer("relay.internal", 25, False, StartTls.NEVER),
        ),
        (
            # Credentials: STARTTLS required unless said otherwise; URL-decoded.
            "smtp://apikey:p%40ss%2Fw%3Ard@smtp.example.com:2525",
            SmtpServer("smtp.example.com", 2525, False, StartTls.REQUIRED, "apikey", "p@ss/w:rd"),
        ),
        (
            "smtp://me%40example.com:pw@smtp.example.com?starttls=opportunistic",
            SmtpServer(
                "smtp.example.com", 587, False, StartTls.OPPORTUNISTIC, "me@example.com", "pw"
            ),
        ),
        (
            "SMTPS://user:pw@smtp.example.com",
            SmtpServer("smtp.example.com", 465, True, StartTls.REQUIRED, "user", "pw"),
        ),
        ("smtp://[::1]:1025", SmtpServer("::1", 1025, False, StartTls.OPPORTUNISTIC)),
    ],
)
def test_smtp_urls_mean_what_the_readme_says(url: str, expected: SmtpServer):
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://mail.example.com", "must start with smtp://"),
        ("mail.example.com:587", "must start with smtp://"),
        ("smtp://", "names no host"),
        ("smtp://user:@mail.example.com", "without the other"),
        ("smtp://user@mail.example.com", "without the other"),
        ("smtp://mail.example.com/inbox", "nothing else"),
        ("smtp://mail.example.com?tls=yes", "unknown options: tls"),
        ("smtp://mail.example.com?starttls=maybe", "starttls must be one of"),
        ("smtps://mail.example.com?starttls=never", "starttls= is for smtp://"),
        (f"smtp://user:{SECRET}@mail.example.com:port", "not a valid URL"),
        (f"smtp://user:a/{SECRET}@mail.example.com", "not a valid URL"),
        ("smtp://mail.example.com:99999", "not a valid URL"),
    ],
)
def test_a_bad_smtp_url_stops_start_up_saying_why_without_the_password(url: str, says: str):
    with pytest.raises(ValidationError) as refused:
        _settings(smtp_url=url)

    assert says in str(refused.value)
    assert SECRET not in str(refused.value)


def test_the_password_stays_out_of_reprs_and_log_lines():
    settings = _settings(smtp_url=f"smtp://user:{SECRET}@mail.example.com")

    server = settings.smtp_server
    assert server is not None and server.password == SECRET
    for shown in (repr(settings), repr(server), server.describe()):
        assert SECRET not in shown
    assert server.describe() == "mail.example.com:587 (STARTTLS required, as user)"


def test_no_smtp_url_means_files():
    assert _settings().smtp_server is None
    assert _settings(smtp_url="").smtp_server is None


def test_mail_from_is_an_address_with_an_optional_name():
    assert _settings().mail_from == "Contoso Expenses <expenses@example.com>"
    assert _settings(mail_from="billing@example.org").mail_from == "billing@example.org"
    named = _settings(mail_from='"Contoso, Inc." <billing@example.org>').mail_from
    assert named == '"Contoso, Inc." <billing@example.org>'
    for bad in ("billing", "a@example.org, b@example.org", "Contoso <billing@example.org"):
        with pytest.raises(ValidationError, match="MAIL_FROM must be an email address"):
            _settings(mail_from=bad)


def test_public_url_is_an_http_address_without_a_trailing_slash():
    assert _settings().public_url == "http://127.0.0.1:8000"
    assert _settings(public_url="https://expenses.example.com/").public_url == (
        "https://expenses.example.com"
    )
    for bad in ("expenses.example.com", "ftp://example.com", "https://", "https://x.com/?a=1"):
        with pytest.raises(ValidationError, match="PUBLIC_URL must be"):
            _settings(public_url=bad)


def test_digest_hours_is_at_least_one():
    assert _settings().digest_hours == 12
    with pytest.raises(ValidationError, match="digest_hours"):
        _settings(digest_hours=0)


PRODUCTION = {
    "environment": "production",
    "secret_key": "9f2c1e7a4b8d6f03a5c2e9b1d7f4a6c8e0b3d5f7a9c1e3b5",
    "database_url": "postgresql://db/contoso",
}


def test_production_without_smtp_needs_no_mail_settings():
    assert _settings(**PRODUCTION).smtp_server is None


def test_production_sending_mail_names_its_sender_and_address():
    mail = {"smtp_url": "smtp://user:pw@smtp.example.com"}
    with pytest.raises(ValidationError, match="MAIL_FROM must be set in production"):
        _settings(**PRODUCTION, **mail)
    with pytest.raises(ValidationError, match="PUBLIC_URL must be set in production"):
        _settings(**PRODUCTION, **mail, mail_from="expenses@contoso.example")
    ready = _settings(
        **PRODUCTION,
        **mail,
        mail_from="expenses@contoso.example",
        public_url="https://expenses.contoso.example",
    )
    assert ready.smtp_server is not None
