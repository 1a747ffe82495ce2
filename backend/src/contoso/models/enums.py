"""The vocabularies PostgreSQL keeps as enum types (`pg_enum`), in one place: a new
status, history event or email kind is a line here and an `ALTER TYPE … ADD VALUE` in
its migration. What each status means to the workflow is declared in
`contoso.tickets.workflow`."""

import enum


class Role(enum.StrEnum):
    EMPLOYEE = "employee"
    EMPLOYER = "employer"


class TicketStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    # Reimbursed in a payment batch: final.
    PAID = "paid"
    # Sent back to its owner with a note; pending again once they resubmit it.
    CHANGES_REQUESTED = "changes_requested"


# Its owner may still change it (fields, receipts); it waits for them or for a decision.
EDITABLE = frozenset({TicketStatus.PENDING, TicketStatus.CHANGES_REQUESTED})
# No decision yet, so no decision's time: the tickets table's `decided_has_time` check.
UNDECIDED = frozenset({TicketStatus.PENDING, TicketStatus.CHANGES_REQUESTED})


class EventKind(enum.StrEnum):
    """What a history entry records."""

    TICKET_CREATED = "ticket_created"
    TICKET_EDITED = "ticket_edited"
    TICKET_APPROVED = "ticket_approved"
    TICKET_DENIED = "ticket_denied"
    TICKET_RECEIPT_ADDED = "ticket_receipt_added"
    TICKET_RECEIPT_REMOVED = "ticket_receipt_removed"
    TICKET_PAID = "ticket_paid"
    TICKET_CHANGES_REQUESTED = "ticket_changes_requested"
    TICKET_RESUBMITTED = "ticket_resubmitted"
    TICKET_COMMENTED = "ticket_commented"
    EMPLOYEE_SUSPENDED = "employee_suspended"
    EMPLOYEE_REACTIVATED = "employee_reactivated"


class MailKind(enum.StrEnum):
    """What an email in the outbox tells its reader."""

    TICKETS_APPROVED = "tickets_approved"
    TICKETS_DENIED = "tickets_denied"
    CHANGES_REQUESTED = "changes_requested"
    TICKETS_PAID = "tickets_paid"
    # To the owner: an employer commented on their ticket.
    TICKET_COMMENTED = "ticket_commented"
    # To an employer: tickets waiting for a decision.
    DIGEST = "digest"
    # To someone without an account yet: an employer invited them to register.
    INVITATION = "invitation"
    # To a user who asked: a link to set a new password.
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a kind of email, not a secret)
