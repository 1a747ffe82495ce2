"""An outbox row as the email its reader gets: a subject, plain text and HTML from the
templates in `mail/templates/` (HTML escaped), links into the app at PUBLIC_URL, and
headers that let a receiver recognise a message sent twice."""

from dataclasses import dataclass
from decimal import Decimal
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from email_validator import EmailNotValidError, validate_email
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from contoso.auth.invitation_codes import InvitationCodes
from contoso.auth.reset_tokens import ResetTokens
from contoso.config import Settings
from contoso.formatting import count, moment, money
from contoso.mail.payloads import (
    DigestPayload,
    InvitationPayload,
    MailTicket,
    PasswordResetPayload,
    Payload,
    TicketsEmail,
    UnreadablePayload,
    read,
)
from contoso.models import MailKind, OutboxEmail, Role

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    # Descriptions and notes are people's text: escaped in HTML, as written in text.
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_templates.filters["count"] = count


# A bulk decision may cover thousands of one employee's tickets: the email lists this
# many, says how many more, and links to the rest.
MAX_LISTED = 50


def ticket_url(settings: Settings, ticket_id: int) -> str:
    """The employee's page of one of their tickets: the ticket, its comments, and what
    they may do with it (edit and resubmit it when it was sent back)."""
    return f"{settings.public_url}/tickets/{ticket_id}"


def invitation_url(settings: Settings, code: str) -> str:
    """The login page, registering with this invitation code filled in."""
    return f"{settings.public_url}/?{urlencode({'invitation': code})}"


def reset_password_url(settings: Settings, token: str) -> str:
    """The page that sets a new password with this reset token."""
    return f"{settings.public_url}/reset-password?{urlencode({'token': token})}"


def pending_tickets_url(settings: Settings) -> str:
    """The console's list of the tickets waiting for a decision."""
    return f"{settings.public_url}/admin/tickets/list?status=pending"


@dataclass(frozen=True)
class TicketLine:
    """A ticket as an email lists it."""

    id: int
    spent_on: str
    description: str
    amount: str
    # In the company's currency, when the ticket was filed in another.
    converted: str | None
    url: str


def render(email: OutboxEmail, settings: Settings) -> EmailMessage:
    """The message `email` stands for, ready to send: From MAIL_FROM, To its address,
    Date when the change happened, and a Message-ID derived from the row, the same
    however often it is sent. UnreadablePayload when its payload is not its kind's."""
    context = _context(email, settings)
    to = envelope_address(email.to_address)
    # A local part beyond ASCII is written raw (RFC 6532) and sent with SMTPUTF8:
    # RFC 2047 encoded-words are not allowed in an address.
    message = EmailMessage(policy=SMTP if to.isascii() else SMTPUTF8)
    message["Subject"] = context["subject"]
    message["From"] = settings.mail_from
    message["To"] = to
    message["Date"] = format_datetime(email.created_at)
    message["Message-ID"] = message_id(email, settings)
    # RFC 3834: an automatic message; vacation responders leave it alone.
    message["Auto-Submitted"] = "auto-generated"
    # Quoted-printable: readable, and every server takes it (no 8BITMIME needed).
    text = _templates.get_template(f"{email.kind.value}.txt").render(context)
    html = _templates.get_template(f"{email.kind.value}.html").render(context)
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return message


def envelope_address(address: str) -> str:
    """`address` as it goes to the mail server: the domain IDNA-encoded
    (`mei@exämple.com` is `mei@xn--exmple-cua.com`), the local part as it is (beyond
    ASCII it needs a server with SMTPUTF8). Text email-validator refuses goes as it is:
    the mail server refuses it, recorded on its row."""
    try:
        valid = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return address
    return f"{valid.local_part}@{valid.ascii_domain}"


def message_id(email: OutboxEmail, settings: Settings) -> str:
    """`<outbox-ID.CREATED@DOMAIN>`: the row's id and creation time (ids start again in
    a new database), at the domain of MAIL_FROM."""
    domain = settings.mail_from.rpartition("@")[2].rstrip(">")
    created = int(email.created_at.timestamp() * 1_000_000)
    return f"<outbox-{email.id}.{created}@{domain}>"


def subject(email: OutboxEmail) -> str:
    """The email's subject, from its payload alone: what the console lists it by (an
    unreadable payload's email is listed as such; `last_error` says why)."""
    try:
        payload = read(email.kind, email.payload)
    except UnreadablePayload:
        return f"Unreadable {email.kind.value} email"
    return _subject(email.kind, payload)


def _subject(kind: MailKind, payload: Payload) -> str:
    if isinstance(payload, InvitationPayload):
        return f"{payload.invited_by} invited you to Contoso Expenses"
    if isinstance(payload, PasswordResetPayload):
        return "Reset your Contoso Expenses password"
    if isinstance(payload, DigestPayload):
        return f"{_waiting(payload)} waiting for a decision ({_total(payload)})"
    listed = payload.tickets
    what = f"ticket #{listed[0].id}" if len(listed) == 1 else f"{count(len(listed))} tickets"
    # An email about tickets says its subject in its text template's `subject` block,
    # which its layout leaves out of the text itself.
    template = _templates.get_template(f"{kind.value}.txt")
    said = template.new_context({"what": what, "total": _total(payload)})
    return "".join(template.blocks["subject"](said)).strip()


def _waiting(digest: DigestPayload) -> str:
    return "1 ticket" if digest.count == 1 else f"{count(digest.count)} tickets"


def _total(payload: TicketsEmail | DigestPayload) -> str:
    """The digest's total, or the listed tickets' sum, in the company's currency."""
    if isinstance(payload, DigestPayload):
        return money(payload.total, payload.company_currency)
    amounts = (ticket.company_amount for ticket in payload.tickets)
    return money(sum(amounts, Decimal(0)), payload.company_currency)


def _context(email: OutboxEmail, settings: Settings) -> dict[str, Any]:
    """What the templates say; UnreadablePayload when the payload is not its kind's."""
    payload = read(email.kind, email.payload)
    base = {
        "public_url": settings.public_url,
        "tickets_url": f"{settings.public_url}/tickets",
        "subject": _subject(email.kind, payload),
    }
    if isinstance(payload, InvitationPayload):
        return base | _invitation(payload, settings)
    if isinstance(payload, PasswordResetPayload):
        return base | _password_reset(payload, settings)
    base["total"] = _total(payload)
    if isinstance(payload, DigestPayload):
        return base | {
            "tickets": _waiting(payload),
            "waiting": payload.count,
            "oldest_filed_at": moment(payload.oldest_filed_at, settings.zone),
            "oldest_spent_on": payload.oldest_spent_on.isoformat(),
            "list_url": pending_tickets_url(settings),
            "digest_hours": settings.digest_hours,
        }
    listed = payload.tickets
    company = payload.company_currency
    lines = [_ticket_line(ticket, company, settings) for ticket in listed[:MAX_LISTED]]
    one = len(listed) == 1
    return (
        base
        | payload.facts()
        | {
            "tickets": lines,
            "more": len(listed) - len(lines),
            "what": (
                f"your ticket #{lines[0].id}" if one else f"{count(len(listed))} of your tickets"
            ),
        }
    )


_WHAT_THEY_DO = {
    Role.EMPLOYEE: "you file your expenses and get them reimbursed",
    Role.EMPLOYER: "you review, approve and pay the expenses others file, and file your own",
}


def _invitation(payload: InvitationPayload, settings: Settings) -> dict[str, Any]:
    if settings.secret_key is None:
        raise RuntimeError("settings need a secret key (Settings.with_secret)")
    code = InvitationCodes(settings.secret_key.get_secret_value()).code_for(payload.nonce)
    return {
        "invited_by": payload.invited_by,
        "as_role": f"an {payload.role.value}",
        "what_they_do": _WHAT_THEY_DO[payload.role],
        "code": code,
        "invitation_url": invitation_url(settings, code),
        "expires_at": moment(payload.expires_at, settings.zone),
    }


def _password_reset(payload: PasswordResetPayload, settings: Settings) -> dict[str, Any]:
    if settings.secret_key is None:
        raise RuntimeError("settings need a secret key (Settings.with_secret)")
    token = ResetTokens(settings.secret_key.get_secret_value()).token_for(payload.nonce)
    return {
        "username": payload.username,
        "reset_url": reset_password_url(settings, token),
        "expires_at": moment(payload.expires_at, settings.zone),
    }


def _ticket_line(ticket: MailTicket, company: str, settings: Settings) -> TicketLine:
    converted = None
    if ticket.currency != company:
        converted = money(ticket.company_amount, company)
    return TicketLine(
        id=ticket.id,
        spent_on=ticket.spent_on.isoformat(),
        description=ticket.description,
        amount=money(ticket.amount, ticket.currency),
        converted=converted,
        url=ticket_url(settings, ticket.id),
    )
