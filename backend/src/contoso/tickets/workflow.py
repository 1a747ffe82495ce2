"""The ticket workflow, declared: every change of a ticket's status is one `Transition`
below, and `tickets.executor` is the one thing that runs them, for one ticket or ten
thousand, from the API, the console and the pages alike.

A transition says which statuses it starts from and the one it ends in, who may make
it, what it stamps on the ticket, its history event and its email, what may keep a
ticket back, and why a ticket in any other status is left alone. The rest follows from
the statuses, so it cannot be declared wrong: the running totals a ticket leaves and
enters (`dashboard.totals.tallies`), whether duplicates are re-flagged (a denied ticket
duplicates nothing), and how the owners are held.

Filing and editing write fields rather than change a status; `FILE` and `EDIT` declare
who may do them, from where, and their event, and keep statements of their own
(`tickets.service`).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from contoso.models import EDITABLE, EventKind, MailKind, Role, TicketStatus


class Skip(StrEnum):
    """Why an action on several tickets left one alone."""

    # Absent, someone else's, or hidden: the same answer, so ids confirm nothing.
    NOT_FOUND = "not_found"
    ALREADY_DECIDED = "already_decided"
    # Approving in bulk leaves flagged tickets alone unless asked (`include_flagged`).
    FLAGGED = "flagged"
    # Sent back for changes: decided once its owner resubmits it.
    CHANGES_REQUESTED = "changes_requested"
    NOT_SENT_BACK = "not_sent_back"
    NOT_APPROVED = "not_approved"
    ALREADY_PAID = "already_paid"

    @property
    def label(self) -> str:
        return _SKIP_LABELS[self]


_SKIP_LABELS = {
    Skip.NOT_FOUND: "not found or hidden",
    Skip.ALREADY_DECIDED: "already decided",
    Skip.FLAGGED: "flagged (approve it on its own, or include flagged tickets)",
    Skip.CHANGES_REQUESTED: "sent back for changes (decided once resubmitted)",
    Skip.NOT_SENT_BACK: "not sent back for changes",
    Skip.NOT_APPROVED: "not approved",
    Skip.ALREADY_PAID: "already paid",
}


class Stamp(StrEnum):
    """What a transition writes into a column of the ticket."""

    ACTOR = "actor"  # the id of who acts
    NOW = "now"  # the transaction's time
    NOTE = "note"  # the note given with the action
    GIVEN = "given"  # a value the caller supplies (the payment a ticket is paid in)


@dataclass(frozen=True)
class Refusal:
    """Why a ticket in some status is left alone: its reason in a bulk outcome, and the
    Conflict's message when the action was on that ticket alone ({id}, {status})."""

    skip: Skip
    message: str


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[TicketStatus]
    target: TicketStatus
    # EMPLOYER: on any visible ticket. EMPLOYEE: on their own tickets only.
    by: Role
    # Completes "Only employers can …" when someone else tries.
    doing: str
    event: EventKind
    # Columns written besides `status` and `updated_at`.
    stamps: Mapping[str, Stamp] = field(default_factory=dict)
    # Emailed to each owner, once per owner, listing their tickets.
    mail: MailKind | None = None
    # Flagged tickets stay back unless the caller includes them (one ticket opened and
    # looked at is always included).
    spares_flagged: bool = False
    # For every status. A ticket still in a source status was kept back by
    # `spares_flagged`, or reached it from elsewhere while the action ran.
    refusals: Mapping[TicketStatus, Refusal] = field(default_factory=dict)

    @property
    def owners_only(self) -> bool:
        return self.by is Role.EMPLOYEE

    @property
    def refreshes_duplicates(self) -> bool:
        """A denied ticket duplicates nothing: entering or leaving `denied` changes the
        duplicate flags of the owner's matching tickets."""
        return TicketStatus.DENIED in {self.target, *self.sources}


def _refusing(
    statuses: Iterable[TicketStatus], skip: Skip, message: str
) -> dict[TicketStatus, Refusal]:
    return dict.fromkeys(statuses, Refusal(skip, message))


_FINAL = "Ticket {id} was already {status}; decisions are final."
_SENT_BACK = "Ticket {id} was sent back for changes; it can be decided once its owner resubmits it."
_DECIDED = frozenset({TicketStatus.APPROVED, TicketStatus.DENIED, TicketStatus.PAID})


def _decision(name: str, target: TicketStatus, event: EventKind, mail: MailKind) -> Transition:
    return Transition(
        name=name,
        sources=frozenset({TicketStatus.PENDING}),
        target=target,
        by=Role.EMPLOYER,
        doing="approve or deny tickets",
        event=event,
        stamps={"decided_by_id": Stamp.ACTOR, "decided_at": Stamp.NOW, "decision_note": Stamp.NOTE},
        mail=mail,
        spares_flagged=target is TicketStatus.APPROVED,
        refusals={
            **_refusing(_DECIDED, Skip.ALREADY_DECIDED, _FINAL),
            # Pending again: it was sent back, and resubmitted meanwhile.
            **_refusing(
                [TicketStatus.CHANGES_REQUESTED, TicketStatus.PENDING],
                Skip.CHANGES_REQUESTED,
                _SENT_BACK,
            ),
            **(
                {TicketStatus.PENDING: Refusal(Skip.FLAGGED, "Ticket {id} is flagged.")}
                if target is TicketStatus.APPROVED
                else {}
            ),
        },
    )


APPROVE = _decision(
    "approve", TicketStatus.APPROVED, EventKind.TICKET_APPROVED, MailKind.TICKETS_APPROVED
)
DENY = _decision("deny", TicketStatus.DENIED, EventKind.TICKET_DENIED, MailKind.TICKETS_DENIED)

_ONLY_PENDING = "Ticket {id} is {status}; only a pending ticket can be sent back for changes."
REQUEST_CHANGES = Transition(
    name="request_changes",
    sources=frozenset({TicketStatus.PENDING}),
    target=TicketStatus.CHANGES_REQUESTED,
    by=Role.EMPLOYER,
    doing="request changes",
    event=EventKind.TICKET_CHANGES_REQUESTED,
    stamps={
        "changes_requested_by_id": Stamp.ACTOR,
        "changes_requested_at": Stamp.NOW,
        "changes_note": Stamp.NOTE,
    },
    mail=MailKind.CHANGES_REQUESTED,
    refusals={
        **_refusing(_DECIDED, Skip.ALREADY_DECIDED, _ONLY_PENDING),
        **_refusing(
            [TicketStatus.CHANGES_REQUESTED, TicketStatus.PENDING],
            Skip.CHANGES_REQUESTED,
            _ONLY_PENDING,
        ),
    },
)

RESUBMIT = Transition(
    name="resubmit",
    sources=frozenset({TicketStatus.CHANGES_REQUESTED}),
    target=TicketStatus.PENDING,
    by=Role.EMPLOYEE,
    doing="resubmit tickets",
    event=EventKind.TICKET_RESUBMITTED,
    refusals=_refusing(
        TicketStatus,  # sent back again after it was resubmitted meanwhile
        Skip.NOT_SENT_BACK,
        "Ticket {id} is {status}, not sent back for changes; there is nothing to resubmit.",
    ),
)

PAY = Transition(
    name="pay",
    sources=frozenset({TicketStatus.APPROVED}),
    target=TicketStatus.PAID,
    by=Role.EMPLOYER,
    doing="pay tickets",
    event=EventKind.TICKET_PAID,
    stamps={"payment_id": Stamp.GIVEN, "paid_by_id": Stamp.ACTOR, "paid_at": Stamp.NOW},
    mail=MailKind.TICKETS_PAID,
    refusals={
        **_refusing(
            # Approved too: approved only after the payment ran.
            set(TicketStatus) - {TicketStatus.PAID},
            Skip.NOT_APPROVED,
            "Ticket {id} is {status}; only an approved ticket can be paid.",
        ),
        TicketStatus.PAID: Refusal(Skip.ALREADY_PAID, "Ticket {id} was already paid."),
    },
)

# Every change of status, by name (tests/test_readme.py holds the README's table to these).
TRANSITIONS = {t.name: t for t in (APPROVE, DENY, REQUEST_CHANGES, RESUBMIT, PAY)}


@dataclass(frozen=True)
class Action:
    """A change that writes a ticket's fields and keeps its status (`tickets.service`)."""

    name: str
    allowed_in: frozenset[TicketStatus]
    by: Role
    doing: str
    event: EventKind


# Filing creates a ticket in `pending` (the column's default); `allowed_in` is empty.
FILE = Action("file", frozenset(), Role.EMPLOYEE, "file expense tickets", EventKind.TICKET_CREATED)
EDIT = Action("edit", EDITABLE, Role.EMPLOYEE, "edit tickets", EventKind.TICKET_EDITED)
