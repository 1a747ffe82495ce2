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
from contoso.models.events import Event, EventKind
from contoso.models.exchange_rates import ExchangeRate
from contoso.models.idempotency import IdempotencyKey
from contoso.models.invitations import Invitation
from contoso.models.mail import MailKind, OutboxEmail
from contoso.models.password_resets import PasswordReset
from contoso.models.payments import Payment
from contoso.models.receipts import Receipt, ReceiptChunk
from contoso.models.sessions import WebSession
from contoso.models.tickets import DECIDED, EDITABLE, Ticket, TicketFlag, TicketStatus
from contoso.models.totals import DecidedTotal, PaidTotal, PendingTotal
from contoso.models.users import Role, User

__all__ = [
    "DECIDED",
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
