"""The console's audit log: decisions and suspensions, read-only."""

from typing import ClassVar

from markupsafe import Markup, escape
from sqlalchemy import select
from starlette.requests import Request

from contoso.admin.views import (
    AnySelect,
    ChoiceFilter,
    ConsoleView,
)
from contoso.models import Event, EventKind

AUDITED = (
    EventKind.TICKET_APPROVED,
    EventKind.TICKET_DENIED,
    EventKind.EMPLOYEE_SUSPENDED,
    EventKind.EMPLOYEE_REACTIVATED,
)


def _event_subject(event: Event, _: str) -> Markup:
    if event.ticket_id is not None:
        return Markup('<a href="../tickets/details/{0}">Ticket #{0}</a>').format(event.ticket_id)
    subject = event.subject
    return escape(f"{subject.username} <{subject.email}>" if subject else "")


class AuditLogAdmin(ConsoleView, model=Event):
    url_identity = "audit-log"
    name = "Audit entry"
    name_plural = "Audit log"
    icon = "fa-solid fa-clipboard-list"
    can_view_details = False
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
        Event.actor: lambda event, _: event.actor.username,
        "subject": _event_subject,
    }
    column_default_sort: ClassVar = [(Event.created_at, True), (Event.id, True)]
    column_filters: ClassVar = [
        ChoiceFilter(Event.kind, [(kind.value, kind.value) for kind in AUDITED], title="What")
    ]
    # Shown as text: an employer actor has no page in the employee view.
    non_link_related_fields: ClassVar = [Event.actor, "subject"]
    column_export_list: ClassVar = [
        "created_at",
        "kind",
        "actor.username",
        "ticket_id",
        "subject.email",
        "note",
    ]

    def list_query(self, request: Request) -> AnySelect:
        return select(Event).where(Event.kind.in_(AUDITED))
