"""The console's audit log: decisions, requests for changes and resubmissions,
payments and suspensions, read-only."""

from typing import ClassVar

from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from starlette.requests import Request

from contoso.admin.compat import AnySelect
from contoso.admin.export import ExportColumn
from contoso.admin.views import ChoiceFilter, ConsoleView
from contoso.formatting import isolated
from contoso.models import Event, EventKind, Ticket, User
from contoso.tickets.workflow import TRANSITIONS

# What the log lists, as people name it; the filter's URL values stay the enum values.
# Every change of a ticket's status, as declared (every round of a request for changes
# and its resubmission too), then the employees'.
KIND_LABELS = {t.event: t.logged for t in TRANSITIONS.values()} | {
    EventKind.EMPLOYEE_SUSPENDED: "Employee suspended",
    EventKind.EMPLOYEE_REACTIVATED: "Employee reactivated",
}
AUDITED = tuple(KIND_LABELS)

# For the export: the ticket an entry is about, and the employee it concerns.
AboutTicket = aliased(Ticket, name="about_ticket")
Concerned = aliased(User, name="concerned")


def _event_subject(event: Event, _: str) -> Markup:
    if event.ticket_id is not None:
        return Markup('<a href="../tickets/details/{0}">Ticket #{0}</a>').format(event.ticket_id)
    subject = event.subject
    if subject is None:
        return Markup("")
    return Markup("{} &lt;{}&gt;").format(isolated(subject.username), isolated(subject.email))


def _note(event: Event, _: str) -> Markup:
    # Wrapped, with the line breaks the employer typed.
    return Markup('<div class="audit-note" dir="auto">{}</div>').format(event.note or "")


class AuditLogAdmin(ConsoleView, model=Event):
    url_identity = "audit-log"
    name = "Audit entry"
    name_plural = "Audit log"
    icon = "fa-solid fa-clipboard-list"
    can_view_details = False
    # Nothing to select or act on: no checkboxes, no Actions menu.
    list_template = "audit_list.html"
    export_types: ClassVar = ["csv"]

    column_list: ClassVar = [Event.created_at, Event.kind, Event.actor, "subject", Event.note]
    column_labels: ClassVar = {
        Event.created_at: "When",
        Event.kind: "What",
        Event.actor: "Who",
        "subject": "About",
        Event.note: "Note",
    }
    column_formatters: ClassVar = {
        Event.kind: lambda event, _: KIND_LABELS[event.kind],
        Event.actor: lambda event, _: event.actor.username,
        "subject": _event_subject,
        Event.note: _note,
    }
    column_default_sort: ClassVar = [(Event.created_at, True), (Event.id, True)]
    column_filters: ClassVar = [
        ChoiceFilter(
            Event.kind, [(kind.value, label) for kind, label in KIND_LABELS.items()], title="What"
        )
    ]
    # Shown as text: an employer actor has no page in the employee view.
    non_link_related_fields: ClassVar = [Event.actor, "subject"]
    # Cells of (event, the employee it concerns): see `export_query`.
    export_columns: ClassVar = [
        ExportColumn("When", lambda event, _: event.created_at),
        ExportColumn("What", lambda event, _: KIND_LABELS[event.kind]),
        ExportColumn("Who", lambda event, _: event.actor.username),
        ExportColumn("Ticket", lambda event, _: event.ticket_id),
        ExportColumn("Employee", lambda _, employee: employee and employee.username),
        ExportColumn("Email", lambda _, employee: employee and employee.email),
        ExportColumn("Note", lambda event, _: event.note),
    ]

    def list_query(self, request: Request) -> AnySelect:
        return select(Event).where(Event.kind.in_(AUDITED))

    def export_query(self, listed: AnySelect) -> AnySelect:
        # The employee an entry concerns: the one suspended or reactivated, or the
        # owner of the ticket decided.
        return (
            listed.outerjoin(AboutTicket, AboutTicket.id == Event.ticket_id)
            .outerjoin(
                Concerned, Concerned.id == func.coalesce(Event.subject_id, AboutTicket.owner_id)
            )
            .add_columns(Concerned)
        )
