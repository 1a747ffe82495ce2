"""An outbox row as the email its reader gets: a subject, plain text and HTML from the
templates in `mail/templates/` (HTML escaped), links into the app at PUBLIC_URL, and
headers that let a receiver recognise a message sent twice."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from contoso.config import Settings
from contoso.formatting import count, moment, money
from contoso.models import MailKind, OutboxEmail

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
    however often it is sent."""
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
    """The email's subject, from its payload alone: what the console lists it by."""
    payload = email.payload
    if email.kind is MailKind.DIGEST:
        return f"{_waiting(payload)} waiting for a decision ({_total(email)})"
    listed = payload["tickets"]
    what = f"ticket #{listed[0]['id']}" if len(listed) == 1 else f"{count(len(listed))} tickets"
    total = _total(email)
    return {
        MailKind.TICKETS_APPROVED: f"Approved: {what}, {total}",
        MailKind.TICKETS_DENIED: f"Denied: {what}",
        MailKind.CHANGES_REQUESTED: f"Changes requested: {what}",
        MailKind.TICKETS_PAID: f"Paid: {total} for {what}",
        MailKind.TICKET_COMMENTED: f"New comment on {what}",
    }[email.kind]


def _waiting(digest: dict[str, Any]) -> str:
    waiting = int(digest["count"])
    return "1 ticket" if waiting == 1 else f"{count(waiting)} tickets"


def _total(email: OutboxEmail) -> str:
    """The digest's total, or the listed tickets' sum, in the company's currency."""
    payload = email.payload
    company = payload["company_currency"]
    if email.kind is MailKind.DIGEST:
        return money(Decimal(payload["total"]), company)
    amounts = (Decimal(ticket["company_amount"]) for ticket in payload["tickets"])
    return money(sum(amounts, Decimal(0)), company)


def _context(email: OutboxEmail, settings: Settings) -> dict[str, Any]:
    payload = email.payload
    company = payload["company_currency"]
    base = {"public_url": settings.public_url, "tickets_url": f"{settings.public_url}/tickets"}
    if email.kind is MailKind.DIGEST:
        oldest = datetime.fromisoformat(payload["oldest_filed_at"])
        return base | {
            "subject": subject(email),
            "tickets": _waiting(payload),
            "waiting": int(payload["count"]),
            "total": _total(email),
            "oldest_filed_at": moment(oldest, settings.zone),
            "oldest_spent_on": date.fromisoformat(payload["oldest_spent_on"]).isoformat(),
            "list_url": pending_tickets_url(settings),
            "digest_hours": settings.digest_hours,
        }
    listed = payload["tickets"]
    lines = [_ticket_line(ticket, company, settings) for ticket in listed[:MAX_LISTED]]
    one = len(listed) == 1
    return base | {
        "subject": subject(email),
        "tickets": lines,
        "more": len(listed) - len(lines),
        "what": f"your ticket #{lines[0].id}" if one else f"{count(len(listed))} of your tickets",
        "total": _total(email),
        "by": payload.get("by") or "Your employer",
        "note": payload.get("note"),
        "reference": payload.get("reference"),
    }


def _ticket_line(ticket: dict[str, Any], company: str, settings: Settings) -> TicketLine:
    currency = ticket["currency"]
    converted = None
    if currency != company:
        converted = money(Decimal(ticket["company_amount"]), company)
    return TicketLine(
        id=int(ticket["id"]),
        spent_on=date.fromisoformat(ticket["spent_on"]).isoformat(),
        description=ticket["description"],
        amount=money(Decimal(ticket["amount"]), currency),
        converted=converted,
        url=ticket_url(settings, int(ticket["id"])),
    )
