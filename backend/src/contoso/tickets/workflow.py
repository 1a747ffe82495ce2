"""The ticket workflow, declared: every status is one `Status` in `STATUSES` and every
change of a ticket's status is one `Transition` below; `tickets.executor` is the one
thing that runs them, for one ticket or ten thousand, and every door (the API's routes,
the console's actions, buttons and confirmations, the pages' buttons, the history and
the audit log) is generated from them.

A status says how it reads (its badge's colour) and which running totals count a
ticket in it. A transition says which statuses it starts from and the one it ends in,
who may make it, what it stamps on the ticket, its history event and its email, what
may keep a ticket back, why a ticket in any other status is left alone, and how the
doors word it. The rest follows from the statuses, so it cannot be declared wrong: the
running totals a ticket leaves and enters, whether duplicates are re-flagged (a denied
ticket duplicates nothing), and how the owners are held.

Filing and editing write fields rather than change a status; `FILE` and `EDIT` declare
who may do them, from where, and their event, and keep statements of their own
(`tickets.service`).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from contoso.dashboard.totals import Tally
from contoso.models import EDITABLE, EventKind, MailKind, TicketStatus


class Actor(StrEnum):
    """Who makes a change: the ticket's owner (employees, and employers filing their own
    expenses), or an employer on someone else's ticket (nobody decides or pays their own)."""

    OWNER = "owner"
    EMPLOYER = "employer"


class Skip(StrEnum):
    """Why an action on several tickets left one alone."""

    # Absent, someone else's, or hidden: the same answer, so ids confirm nothing.
    NOT_FOUND = "not_found"
    # The actor's own ticket, on which another employer acts (separation of duties).
    OWN_TICKET = "own_ticket"
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
    Skip.OWN_TICKET: "your own (another employer acts on it)",
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
class Status:
    """A status as the doors show it, and what it counts in."""

    # Tabler's badge colour (`bg-<colour>-lt`).
    colour: str
    # The running totals that count a ticket in this status (none is an answer).
    tallies: tuple[Tally, ...]
    # How the pages introduce the amount in the company's currency.
    amount_lead: str = "reimbursed as"
    # What a ticket's console page says while an employer may act on it.
    waiting: str = ""


# Every status, in the order a ticket goes through them (the console's status filter);
# tests/tickets/test_doors.py checks that none is missing.
STATUSES: Mapping[TicketStatus, Status] = {
    TicketStatus.PENDING: Status(
        "yellow", (Tally.PENDING,), waiting="This ticket waits for a decision."
    ),
    # Back with its owner: counted nowhere.
    TicketStatus.CHANGES_REQUESTED: Status("purple", ()),
    TicketStatus.APPROVED: Status("green", (Tally.DECIDED,)),
    TicketStatus.DENIED: Status("red", (Tally.DECIDED,), amount_lead="worth"),
    TicketStatus.PAID: Status("blue", (Tally.DECIDED, Tally.PAID), amount_lead="paid as"),
}
# The statuses each running total counts.
COUNTED_IN: Mapping[Tally, frozenset[TicketStatus]] = {
    tally: frozenset(s for s, status in STATUSES.items() if tally in status.tallies)
    for tally in Tally
}


@dataclass(frozen=True)
class AskedNote:
    """A note the employer must give with a transition (the employee reads it)."""

    # The confirmation's label: "What should change?"
    question: str
    # Said when it is blank, before why it is needed: "Say what should change"
    ask: str
    # Why, on the console: "the employee reads this note to fix the ticket"
    why: str

    def refusal(self, doing: str) -> str:
        """What the API says when the note is missing."""
        return f"{self.ask}: a note is required to {doing}"


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
    # EMPLOYER: an employer, on any visible ticket but their own. OWNER: the ticket's
    # owner, whatever their role.
    by: Actor
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

    # How the doors word it. The console's action and buttons (by default the name):
    verb: str = ""
    # "Select at least one ticket to {act} first" (by default the verb):
    act: str = ""
    # Its outcome, "Approved 3 tickets" (or the employee's notice), and what follows
    # the count: "Sent 2 tickets back for changes".
    done: str = ""
    done_detail: str = ""
    # The confirmation's heading, {tickets} being "1 ticket" or "3 tickets" (by
    # default "<verb> 3 tickets?").
    question: str = ""
    # Tabler's colour of its buttons: "danger" asks twice as loudly.
    button: str = "primary"
    # Employers: a note they must give (None: an optional note). Employees give none.
    asks: AskedNote | None = None
    # How a skip reason reads in this transition's outcome, where not as `Skip.label`.
    skip_words: Mapping[Skip, str] = field(default_factory=dict)
    # The history as the audit log names it ("Ticket approved"); the ticket's page
    # drops "Ticket ".
    logged: str = ""
    # The API route's summary (by default "<Verb> Ticket") and description.
    summary: str = ""
    described: str | None = None
    # The employee page's notice once done ({id}, {spent}, {description}).
    notice: str = ""

    @property
    def owners_only(self) -> bool:
        return self.by is Actor.OWNER

    @property
    def slug(self) -> str:
        """Its URL segment: `request-changes`."""
        return self.name.replace("_", "-")

    @property
    def label(self) -> str:
        return self.verb or self.name.replace("_", " ").capitalize()

    @property
    def takes_note(self) -> bool:
        return self.by is Actor.EMPLOYER

    @property
    def own_door(self) -> bool:
        """Run by a door of its own (paying, through `payments`): a value it stamps is
        given by the caller, which the generic doors cannot give."""
        return Stamp.GIVEN in self.stamps.values()

    @property
    def history_label(self) -> str:
        return self.logged.removeprefix("Ticket ").capitalize()

    def counted(self) -> tuple[dict[TicketStatus, tuple[Tally, ...]], tuple[Tally, ...]]:
        """The running totals a ticket leaves, by its source status, and those it enters."""
        left = {status: STATUSES[status].tallies for status in self.sources}
        return left, STATUSES[self.target].tallies

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
_DECIDED = COUNTED_IN[Tally.DECIDED]


def _decision(
    name: str, target: TicketStatus, event: EventKind, mail: MailKind, **wording: Any
) -> Transition:
    return Transition(
        name=name,
        sources=frozenset({TicketStatus.PENDING}),
        target=target,
        by=Actor.EMPLOYER,
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
        **wording,
    )


APPROVE = _decision(
    "approve",
    TicketStatus.APPROVED,
    EventKind.TICKET_APPROVED,
    MailKind.TICKETS_APPROVED,
    done="Approved",
    logged="Ticket approved",
)
DENY = _decision(
    "deny",
    TicketStatus.DENIED,
    EventKind.TICKET_DENIED,
    MailKind.TICKETS_DENIED,
    done="Denied",
    button="danger",
    logged="Ticket denied",
    described="Deny a pending ticket; the note is shown to the employee.",
)

_ONLY_PENDING = "Ticket {id} is {status}; only a pending ticket can be sent back for changes."
REQUEST_CHANGES = Transition(
    name="request_changes",
    sources=frozenset({TicketStatus.PENDING}),
    target=TicketStatus.CHANGES_REQUESTED,
    by=Actor.EMPLOYER,
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
    act="send back for changes",
    done="Sent",
    done_detail="back for changes",
    question="Send {tickets} back for changes?",
    button="outline-purple",
    asks=AskedNote(
        "What should change?",
        "Say what should change",
        "the employee reads this note to fix the ticket",
    ),
    skip_words={Skip.CHANGES_REQUESTED: "already sent back for changes"},
    logged="Changes requested",
    summary="Request Changes",
    described="Send a pending ticket back to its owner with a note saying what to change\n"
    "(employers): it is `changes_requested` until they resubmit it, and cannot be\n"
    "decided meanwhile (409).",
)

RESUBMIT = Transition(
    name="resubmit",
    sources=frozenset({TicketStatus.CHANGES_REQUESTED}),
    target=TicketStatus.PENDING,
    by=Actor.OWNER,
    doing="resubmit tickets",
    event=EventKind.TICKET_RESUBMITTED,
    refusals=_refusing(
        TicketStatus,  # sent back again after it was resubmitted meanwhile
        Skip.NOT_SENT_BACK,
        "Ticket {id} is {status}, not sent back for changes; there is nothing to resubmit.",
    ),
    done="Resubmitted",
    logged="Ticket resubmitted",
    described="Send your ticket in again once you made the changes asked for: pending again,\n"
    "for a decision. 409 unless it was sent back for changes.",
    notice="Ticket #{id} resubmitted: {spent} for {description} waits for a decision again.",
)

PAY = Transition(
    name="pay",
    sources=frozenset({TicketStatus.APPROVED}),
    target=TicketStatus.PAID,
    by=Actor.EMPLOYER,
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
    verb="Mark paid",
    done="Paid",
    logged="Ticket paid",
)

# Every change of status, by name (tests/test_readme.py holds the README's table to these).
TRANSITIONS = {t.name: t for t in (APPROVE, DENY, REQUEST_CHANGES, RESUBMIT, PAY)}


@dataclass(frozen=True)
class Action:
    """A change that writes a ticket's fields and keeps its status (`tickets.service`)."""

    name: str
    allowed_in: frozenset[TicketStatus]
    by: Actor
    doing: str
    event: EventKind


# Filing creates a ticket in `pending` (the column's default); `allowed_in` is empty.
FILE = Action("file", frozenset(), Actor.OWNER, "file expense tickets", EventKind.TICKET_CREATED)
EDIT = Action("edit", EDITABLE, Actor.OWNER, "edit tickets", EventKind.TICKET_EDITED)
