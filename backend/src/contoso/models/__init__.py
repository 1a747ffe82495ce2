"""Typed SQLAlchemy models, one module per aggregate. Pydantic schemas live beside each
domain's endpoints.

Everything is re-exported here: `from contoso.models import Ticket` is how the app, the
tests and Alembic's env.py import them, and importing this package registers every table
on `Base.metadata` (which Alembic compares against the migrations).
"""

from contoso.models.base import NAMING_CONVENTION, Base
from contoso.models.categories import Category
from contoso.models.comments import Comment
from contoso.models.company import Company
from contoso.models.enums import EDITABLE, EventKind, MailKind, Role, TicketStatus
from contoso.models.events import Event
from contoso.models.exchange_rates import ExchangeRate
from contoso.models.idempotency import IdempotencyKey
from contoso.models.invitations import Invitation
from contoso.models.mail import OutboxEmail
from contoso.models.password_resets import PasswordReset
from contoso.models.payments import Payment
from contoso.models.receipts import Receipt, ReceiptChunk
from contoso.models.sessions import WebSession
from contoso.models.tickets import Ticket, TicketFlag
from contoso.models.totals import DecidedTotal, PaidTotal, PendingTotal
from contoso.models.users import User

__all__ = [
    "EDITABLE",
    "NAMING_CONVENTION",
    "Base",
    "Category",
    "Comment",
    "Company",
    "DecidedTotal",
    "Event",
    "EventKind",
    "ExchangeRate",
    "IdempotencyKey",
    "Invitation",
    "MailKind",
    "OutboxEmail",
    "PaidTotal",
    "PasswordReset",
    "Payment",
    "PendingTotal",
    "Receipt",
    "ReceiptChunk",
    "Role",
    "Ticket",
    "TicketFlag",
    "TicketStatus",
    "User",
    "WebSession",
]
