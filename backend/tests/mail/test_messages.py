"""Outbox rows as the emails people read: subjects, amounts in their currencies, links,
escaping, and headers that stay the same when a message is sent again."""

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from contoso.auth.invitation_codes import InvitationCodes
from contoso.auth.reset_tokens import ResetTokens
from contoso.config import Settings
from contoso.mail.messages import render, ticket_url
from contoso.models import MailKind, OutboxEmail
from tests.mail.conftest import PUBLIC_URL, settings_for

FILED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def mail_settings(settings: Settings) -> Settings:
    return settings_for(settings, None, timezone="Europe/Paris")


def _email(kind: MailKind, payload: dict, id: int = 7) -> OutboxEmail:
    invitation = kind is MailKind.INVITATION
    moneyless = invitation or kind is MailKind.PASSWORD_RESET
    return OutboxEmail(
        id=id,
        kind=kind,
        # An invitation's reader has no account yet.
        user_id=None if invitation else 1,
        to_address="alice@example.com",
        payload=payload if moneyless else {"company_currency": "USD"} | payload,
        created_at=FILED,
    )


INVITATION = {
    "nonce": "n0nce",
    "role": "employee",
    "invited_by": "Grace",
    "expires_at": "2026-11-27T09:30:00+00:00",
}
PASSWORD_RESET = {
    "nonce": "n0nce",
    "username": "Alice",
    "expires_at": "2026-11-20T10:30:00+00:00",
}


def _ticket(id: int, amount: str, currency: str = "USD", company: str | None = None) -> dict:
    return {
        "id": id,
        "description": "Hotel in Lyon",
        "spent_on": "2026-11-02",
        "amount": amount,
        "currency": currency,
        "company_amount": company or amount,
    }


def _text(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None
    return str(part.get_content())


def test_a_ticket_in_another_currency_shows_both_amounts(mail_settings: Settings):
    email = _email(
        MailKind.TICKETS_DENIED,
        {"tickets": [_ticket(3, "1500", "JPY", "9.60")], "by": "Grace", "note": None},
    )

    message = render(email, mail_settings)

    assert message["Subject"] == "Denied: ticket #3"
    text = _text(message, "plain")
    assert "Grace denied your ticket #3 ($9.60)." in text
    assert "#3  2026-11-02  ¥1,500 ($9.60)" in text
    assert "wrote:" not in text  # no note, no quote
    assert f"{PUBLIC_URL}/tickets/3\n" in text


def test_the_message_id_is_the_same_each_time_the_email_is_rendered(mail_settings: Settings):
    email = _email(MailKind.TICKETS_APPROVED, {"tickets": [_ticket(3, "5.00")], "by": "G"})
    other = _email(MailKind.TICKETS_APPROVED, {"tickets": [_ticket(3, "5.00")], "by": "G"}, id=8)

    first, again = render(email, mail_settings), render(email, mail_settings)

    assert first["Message-ID"] == again["Message-ID"]
    assert first["Message-ID"] == f"<outbox-7.{int(FILED.timestamp()) * 1_000_000}@contoso.example>"
    assert render(other, mail_settings)["Message-ID"] != first["Message-ID"]
    assert first["Date"] == "Fri, 20 Nov 2026 09:30:00 +0000"


def test_a_name_in_a_note_cannot_become_markup(mail_settings: Settings):
    email = _email(
        MailKind.CHANGES_REQUESTED,
        {
            "tickets": [_ticket(4, "2.00")],
            "by": "<b>Boss</b>",
            "note": "Line one\n<img src=x onerror=alert(1)>",
        },
    )

    message = render(email, mail_settings)

    html = _text(message, "html")
    assert "<img" not in html and "<b>" not in html
    assert "&lt;b&gt;Boss&lt;/b&gt; sent your ticket #4 back for changes" in html
    assert "Line one\n&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<b>Boss</b> sent your ticket #4 back" in _text(message, "plain")


def test_the_digest_names_how_many_wait_their_total_and_the_oldest(mail_settings: Settings):
    email = _email(
        MailKind.DIGEST,
        {
            "count": 1234,
            "total": "98765.40",
            "oldest_filed_at": "2026-11-01T23:30:00+00:00",
            "oldest_spent_on": "2026-10-28",
        },
    )

    message = render(email, mail_settings)

    assert message["Subject"] == "1,234 tickets waiting for a decision ($98,765.40)"
    text = _text(message, "plain")
    # Times in TIMEZONE, named.
    assert "The oldest was filed 2026-11-02 00:30 Europe/Paris" in text
    assert f"{PUBLIC_URL}/admin/tickets/list?status=pending" in text
    assert "turn them off" not in text  # the employees' footer is not the employers'


def test_every_kind_has_both_templates(mail_settings: Settings):
    tickets = {"tickets": [_ticket(1, "1.00")], "by": "G"}
    facts = {
        MailKind.TICKETS_PAID: {"reference": "R", "payment_id": 1},
        MailKind.TICKET_COMMENTED: {"note": "n"},
    }
    digest = {
        "count": 1,
        "total": "1.00",
        "oldest_filed_at": "2026-11-01T00:00:00+00:00",
        "oldest_spent_on": "2026-11-01",
    }
    payloads = {
        MailKind.DIGEST: digest,
        MailKind.INVITATION: INVITATION,
        MailKind.PASSWORD_RESET: PASSWORD_RESET,
    }
    for kind in MailKind:
        payload = payloads.get(kind, tickets | facts.get(kind, {}))
        message = render(_email(kind, payload), mail_settings)
        assert _text(message, "plain").strip() and "<html" in _text(message, "html")


def test_an_invitation_links_to_registering_with_its_code_which_it_does_not_store(
    mail_settings: Settings,
):
    assert mail_settings.secret_key is not None
    codes = InvitationCodes(mail_settings.secret_key.get_secret_value())
    nonce, code = codes.issue()
    email = _email(
        MailKind.INVITATION,
        INVITATION | {"nonce": nonce, "role": "employer", "invited_by": "<b>Grace</b>"},
    )

    message = render(email, mail_settings)

    assert code not in str(email.payload)
    assert message["Subject"] == "<b>Grace</b> invited you to Contoso Expenses"
    text, html = _text(message, "plain"), _text(message, "html")
    assert f"{PUBLIC_URL}/?invitation={code}\n" in text
    assert "Create your account as an employer" in text
    assert f"enter the code {code}." in text
    # In TIMEZONE, named.
    assert "until 2026-11-27 10:30 Europe/Paris" in text
    assert f'href="{PUBLIC_URL}/?invitation={code}"' in html
    assert "<b>Grace" not in html and "&lt;b&gt;Grace&lt;/b&gt; invited you" in html
    # Another secret derives another code: the nonce alone gives nothing away.
    assert InvitationCodes("another secret of at least 32 bytes!!").code_for(nonce) != code


def test_a_reset_email_links_to_the_reset_page_with_a_token_it_does_not_store(
    mail_settings: Settings,
):
    assert mail_settings.secret_key is not None
    tokens = ResetTokens(mail_settings.secret_key.get_secret_value())
    nonce, token = tokens.issue()
    email = _email(
        MailKind.PASSWORD_RESET, PASSWORD_RESET | {"nonce": nonce, "username": "<b>Alice</b>"}
    )

    message = render(email, mail_settings)

    assert token not in str(email.payload)
    assert message["Subject"] == "Reset your Contoso Expenses password"
    text, html = _text(message, "plain"), _text(message, "html")
    assert f"{PUBLIC_URL}/reset-password?token={token}\n" in text
    assert "until 2026-11-20 11:30 Europe/Paris" in text
    assert "If you did not ask for this, ignore this email" in text
    assert "turn them off" not in text  # not an email about tickets
    assert f'href="{PUBLIC_URL}/reset-password?token={token}"' in html
    assert "<b>Alice" not in html and "&lt;b&gt;Alice&lt;/b&gt;" in html
    assert ResetTokens("another secret of at least 32 bytes!!").token_for(nonce) != token


def test_a_bulk_decision_lists_fifty_tickets_and_counts_the_rest(mail_settings: Settings):
    tickets = [_ticket(i, "1.00") for i in range(1, 1201)]
    email = _email(MailKind.TICKETS_APPROVED, {"tickets": tickets, "by": "G", "note": None})

    message = render(email, mail_settings)

    assert message["Subject"] == "Approved: 1,200 tickets, $1,200.00"
    text = _text(message, "plain")
    assert "G approved 1,200 of your tickets: $1,200.00" in text
    assert "/tickets/50\n" in text and "/tickets/51\n" not in text
    assert f"...and 1,150 more: {PUBLIC_URL}/tickets" in text
    assert "1,150 more</a>" in _text(message, "html")


def test_the_links_lead_to_pages_the_app_serves(app, mail_settings: Settings):
    link = ticket_url(mail_settings, 12).removeprefix(PUBLIC_URL)

    # The employee's page of one ticket (web.ticket_page.ticket_page).
    assert link == app.url_path_for("ticket_page", ticket_id=12) == "/tickets/12"
