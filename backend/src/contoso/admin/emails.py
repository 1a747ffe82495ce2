"""The console's emails: what the outbox sent, what it still tries, and what it gave up
on, read-only. (Giving failed emails another try is `contoso send-mail
--retry-failed`, for whoever fixes the mail settings.)"""

from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from markupsafe import Markup
from starlette.requests import Request

from contoso.admin.compat import AnySelect
from contoso.admin.views import ChoiceFilter, ConsoleView, contains
from contoso.formatting import isolated, moment
from contoso.mail.messages import subject
from contoso.mail.queries import IN_STATE, EmailState, state_of, visible_emails
from contoso.models import OutboxEmail

# Tabler's light badge colours, by state.
_COLOURS = {EmailState.WAITING: "yellow", EmailState.SENT: "green", EmailState.FAILED: "red"}
# The list shows the start of the last error; its tooltip has it whole.
ERROR_SHOWN = 80


class StateFilter(ChoiceFilter):
    def __init__(self) -> None:
        choices = [(state.value, state.label) for state in EmailState]
        super().__init__(OutboxEmail.sent_at, choices, title="State", parameter_name="state")

    async def get_filtered_query(self, query: AnySelect, value: Any, model: Any) -> AnySelect:
        chosen = self.chosen(value)
        return query if chosen is None else query.where(IN_STATE[EmailState(chosen)])


def _to(email: OutboxEmail, _: str) -> Markup:
    return Markup('<span class="email-to" title="{0}">{1}</span>').format(
        email.to_address, isolated(email.to_address)
    )


def _subject(email: OutboxEmail, _: str) -> Markup:
    return Markup('<span class="email-subject">{}</span>').format(subject(email))


def _error(email: OutboxEmail, _: str) -> Markup:
    if not email.last_error:
        return Markup("")
    shown = email.last_error
    if len(shown) > ERROR_SHOWN:
        shown = shown[: ERROR_SHOWN - 1] + "…"
    return Markup('<span class="last-error" title="{}">{}</span>').format(email.last_error, shown)


class EmailAdmin(ConsoleView, model=OutboxEmail):
    url_identity = "emails"
    name = "Email"
    name_plural = "Emails"
    icon = "fa-solid fa-envelope"
    can_view_details = False
    can_export = False
    # Cells that wrap, so every column shows at 1366 px wide.
    list_template = "emails_list.html"

    column_list: ClassVar = [
        OutboxEmail.created_at,
        OutboxEmail.to_address,
        OutboxEmail.kind,
        OutboxEmail.sent_at,
        OutboxEmail.attempts,
        OutboxEmail.last_error,
    ]
    column_labels: ClassVar = {
        OutboxEmail.created_at: "Queued",
        OutboxEmail.to_address: "To",
        OutboxEmail.kind: "Subject",
        OutboxEmail.sent_at: "State",
        OutboxEmail.attempts: "Attempts",
        OutboxEmail.last_error: "Last error",
    }
    column_formatters: ClassVar = {
        OutboxEmail.to_address: _to,
        OutboxEmail.kind: _subject,
        OutboxEmail.last_error: _error,
    }
    column_searchable_list: ClassVar = [OutboxEmail.to_address]
    column_sortable_list: ClassVar = [OutboxEmail.created_at, OutboxEmail.to_address]
    column_default_sort: ClassVar = [(OutboxEmail.created_at, True), (OutboxEmail.id, True)]
    column_filters: ClassVar = [StateFilter()]

    @classmethod
    def for_app(cls, zone: ZoneInfo, company_currency: str) -> type[ConsoleView]:
        view = super().for_app(zone, company_currency)
        view.column_formatters = cls.column_formatters | {
            OutboxEmail.sent_at: lambda email, _: _state(email, zone)
        }
        return view

    def list_query(self, request: Request) -> AnySelect:
        return visible_emails()

    def search_query(self, stmt: AnySelect, term: str) -> AnySelect:
        return stmt.where(OutboxEmail.to_address.ilike(contains(term.strip())))

    def search_placeholder(self) -> str:
        return "address"


def _state(email: OutboxEmail, zone: ZoneInfo) -> Markup:
    """`Sent 2026-11-22 06:01 UTC`; `Failed ...` since when; `Waiting`, with the next
    try when one was refused."""
    state = state_of(email)
    badge = Markup('<span class="badge bg-{}-lt email-state">{}</span>').format(
        _COLOURS[state], state.label
    )
    when = {
        EmailState.SENT: email.sent_at,
        EmailState.FAILED: email.failed_at,
        EmailState.WAITING: email.next_attempt_at if email.attempts else None,
    }[state]
    if when is None:
        return badge
    said = moment(when, zone)
    if state is EmailState.WAITING:
        said = f"next try {said}"
    return Markup('{} <small class="text-muted">{}</small>').format(badge, said)
