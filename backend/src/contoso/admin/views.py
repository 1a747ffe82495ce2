"""What every console view shares: read-only lists over the shared queries, actions
through the services, selections, filters and messages."""

import builtins
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqladmin.filters import StaticValuesFilter
from sqladmin.formatters import BASE_FORMATTERS
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from contoso.admin.compat import (
    ALL_VALUES,
    LOOKUP_FILTER_TEMPLATE,
    NO_DEFAULT,
    AnySelect,
    CompatView,
)
from contoso.admin.export import CHUNK_ROWS, ExportColumn, csv_chunks
from contoso.browser.forms import read_form
from contoso.employees.schemas import EmployeeSkip
from contoso.errors import ContosoError, InvalidField
from contoso.formatting import moment
from contoso.invitations.schemas import InvitationSkip
from contoso.payments.schemas import PaymentSkip
from contoso.spreadsheets import csv_download
from contoso.tickets.workflow import Skip as TicketSkip
from contoso.validation import MAX_RECORD_ID, MAX_SELECTION, search_text

# The confirmation form's field that carries the list to go back to.
BACK_FIELD = "back"

# Why an action left a selected record alone.
# The workflow's reasons (tickets), and those of employees, payments and invitations.
Skip = TypeVar("Skip", TicketSkip, EmployeeSkip, PaymentSkip, InvitationSkip)


class ServiceLookup:
    """The shared part of a list filter whose choices a service reads per request
    (SQLAdmin's lookup template; a subclass gives `title`, `parameter_name`,
    `lookups` and `get_filtered_query`)."""

    has_operator = False
    template = LOOKUP_FILTER_TEMPLATE
    default_value: Any = NO_DEFAULT

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions


def parse_ids(raw: str) -> list[int] | None:
    """Ids from "1,2,3"; None if any part is not a positive integer."""
    try:
        ids = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        return None
    if not ids or len(ids) > MAX_SELECTION or any(not 1 <= i <= MAX_RECORD_ID for i in ids):
        return None
    return list(dict.fromkeys(ids))


async def selection(request: Request) -> tuple[FormData | None, list[int] | None]:
    """The submitted form (None on GET) and the selected ids: `pks` in the form or query."""
    form = await read_form(request) if request.method == "POST" else None
    return form, parse_ids(str((form or request.query_params).get("pks", "")))


def contains(term: str) -> str:
    """An ILIKE pattern for `term` as typed: its %, _ and backslashes are not wildcards."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _either(choices: Sequence[str]) -> str:
    return f"{', '.join(choices[:-1])} or {choices[-1]}" if len(choices) > 1 else choices[0]


class ChoiceFilter(StaticValuesFilter):
    """A filter on a fixed list of values. Any other value is a 400 naming the choices,
    never a query (an unknown enum value is a database error)."""

    def chosen(self, value: Any) -> str | None:
        """The choice `value` names; None for no filter (absent or "All")."""
        choices = [choice for choice, _ in self.values]
        if value not in (None, "", ALL_VALUES, *choices):
            raise HTTPException(
                400,
                f"There is no such {self.parameter_name} to filter by; "
                f"choose {_either(choices)}.",
            )
        return value if value in choices else None

    async def get_filtered_query(self, query: AnySelect, value: Any, model: Any) -> AnySelect:
        self.chosen(value)
        filtered: AnySelect = await super().get_filtered_query(query, value, model)
        return filtered


def single_id(raw: str) -> int | None:
    """The one id in `raw` ("12"); None if it is not exactly one valid id."""
    ids = parse_ids(raw)
    return ids[0] if ids and len(ids) == 1 else None


def pk_of(request: Request) -> int | None:
    return single_id(request.path_params.get("pk", ""))


def refusal(exc: ValidationError) -> str:
    """What was wrong with a form's text (a note, a comment), worded for a person."""
    return "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())


def outcome_message(
    verb: str,
    noun: str,
    done: int,
    skipped: Mapping[int, Skip],
    detail: str = "",
    labels: Mapping[Skip, str] | None = None,
) -> str:
    """`Paid 12 tickets (detail); 2 skipped: 1 not approved, 1 already paid.` Each
    reason reads as its `label`, or as `labels` words it for this action."""
    message = f"{verb} {done} {noun}{'' if done == 1 else 's'}{detail and f' {detail}'}"
    if skipped:
        reasons = Counter(skipped.values())
        worded = labels or {}
        parts = ", ".join(
            f"{count} {worded.get(reason, reason.label)}" for reason, count in reasons.items()
        )
        message += f"; {len(skipped)} skipped: {parts}"
    return message + "."


class ConsoleView(CompatView):
    """Read-only: records change only through the actions, which call the services."""

    # Set per app by `for_app`: timestamps in the configured zone.
    column_type_formatters: ClassVar = BASE_FORMATTERS
    column_type_formatters_detail: ClassVar = BASE_FORMATTERS
    can_create = False
    can_edit = False
    can_delete = False
    page_size = 50
    page_size_options: ClassVar[Sequence[int]] = [25, 50, 100, 200]
    # The URL segment: /admin/<url_identity>/list.
    url_identity: ClassVar[str] = ""
    # Where times are shown (TIMEZONE), set by `for_app`.
    zone: ClassVar[ZoneInfo] = ZoneInfo("UTC")
    # The currency limits, totals and payments are in (COMPANY_CURRENCY), set by `for_app`.
    company_currency: ClassVar[str] = ""
    # Its export link carries the list's search, filters and sort.
    list_template = "console_list.html"
    # The CSV export's columns (see `export_data`); a view without them exports as
    # SQLAdmin does.
    export_columns: ClassVar[Sequence[ExportColumn]] = ()
    export_chunk_rows: ClassVar[int] = CHUNK_ROWS

    @classmethod
    def for_app(cls, zone: ZoneInfo, company_currency: str) -> "type[ConsoleView]":
        """A subclass of this view for one app: SQLAdmin stores its admin and engine on
        the view class, and two apps (tests make several) must not share them. A view
        whose cells show money in the company's currency sets their formatters here."""
        formatters = BASE_FORMATTERS | {datetime: partial(moment, zone=zone)}
        attributes = {
            "identity": cls.url_identity,
            "column_type_formatters": formatters,
            "column_type_formatters_detail": formatters,
            "zone": zone,
            "company_currency": company_currency,
        }
        return type(cls.__name__, (cls,), attributes)

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        # SQLAdmin types its session maker as sync or async; ours is async (mount_console).
        assert isinstance(self.session_maker, async_sessionmaker)
        return self.session_maker

    async def confirmation(
        self, request: Request, verb: str, items: Sequence[Any], context: dict[str, Any]
    ) -> Response:
        """An action's confirmation page (confirm.html): `verb` on `items`."""
        back = self.list_to_return_to(request)
        return await self.templates.TemplateResponse(
            request,
            "confirm.html",
            {"model_view": self, "verb": verb, "items": items, "title": verb, "back": back}
            | context,
        )

    def list_to_return_to(self, request: Request, form: FormData | None = None) -> str:
        """The list the employer acted from, with its search, filter, sort and page.

        SQLAdmin's list opens an action with a plain link, so the confirmation page
        learns the list from the Referer and carries it in its form (`back`). Only this
        view's own list on this site is accepted; anything else is the list unfiltered.
        """
        own = request.url_for("admin:list", identity=self.identity)
        sent = form.get(BACK_FIELD) if form is not None else None
        for candidate in (sent, request.headers.get("referer")):
            if not isinstance(candidate, str):
                continue
            came_from = urlsplit(candidate)
            if came_from.netloc in ("", own.netloc) and came_from.path == own.path:
                return own.path + (f"?{came_from.query}" if came_from.query else "")
        return own.path

    async def form_page(
        self, request: Request, template: str, context: dict[str, Any], status_code: int = 200
    ) -> Response:
        """A form of this view (`template`), blank, or as typed with what was wrong."""
        return await self.templates.TemplateResponse(
            request, template, {"model_view": self} | context, status_code=status_code
        )

    async def form_refused(
        self, request: Request, template: str, context: dict[str, Any], error: ContosoError
    ) -> Response:
        """The form again, saying why a service refused it, with the error's status: an
        InvalidField (422) beside its field, anything else (a Conflict, 409) above."""
        said: dict[str, Any] = {"error": error.message}
        if isinstance(error, InvalidField):
            said = {"errors": {error.field: error.message}}
        return await self.form_page(request, template, context | said, error.status_code)

    def to_list(self, request: Request) -> RedirectResponse:
        """This view's list, after a form was saved. 303: a reload of the list does not
        post the form again."""
        return RedirectResponse(request.url_for("admin:list", identity=self.identity), 303)

    def back_to_list(self, request: Request, form: FormData | None = None) -> RedirectResponse:
        """The list the employer acted from, after an action. 303: the browser follows
        with a GET, so a reload does not repeat the action."""
        return RedirectResponse(self.list_to_return_to(request, form), 303)

    async def listed(self, request: Request) -> AnySelect:
        """Every row the list shows under the request's search, filters and sort, in its
        order, unpaged: what the list pages through and the export streams, so the two
        always agree."""
        # Checked before any query: PostgreSQL cannot take NUL in text (a 500 otherwise).
        try:
            search_text(request.query_params.get("search", ""))
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from exc
        return await super().listed(request)

    def sort_query(self, stmt: AnySelect, request: Request) -> AnySelect:
        # Ties broken by the primary key: equal amounts keep one order across pages
        # and in the export. (The default sorts end with the id already.)
        ordered: AnySelect = super().sort_query(stmt, request)
        if request.query_params.get("sortBy"):
            descending = request.query_params.get("sort") == "desc"
            ordered = ordered.order_by(
                *(column.desc() if descending else column.asc() for column in self.pk_columns)
            )
        return ordered

    def export_query(self, listed: AnySelect) -> AnySelect:
        """What the export streams for the listed rows: by default the rows themselves;
        a view adds what its `export_columns` read beyond the model."""
        return listed

    def get_export_name(self, export_type: str) -> str:
        # `tickets-2026-11-21.csv`: the day in the app's zone.
        return f"{self.identity}-{datetime.now(self.zone).date().isoformat()}.{export_type}"

    async def get_model_objects(
        self, request: Request, limit: int | None = 0
    ) -> builtins.list[Any]:
        # SQLAdmin's export reads every row here first; `export_data` streams them instead.
        if self.export_columns:
            return []
        return await super().get_model_objects(request, limit)

    async def export_data(
        self, data: builtins.list[Any], export_type: str = "csv", request: Request | None = None
    ) -> StreamingResponse:
        """The rows the list shows under the request's search, filters and sort (every
        page), as CSV streamed from the database: `export_columns`, cells written by
        `contoso.admin.export`."""
        if not self.export_columns or export_type != "csv" or request is None:
            return await super().export_data(data, export_type, request)
        statement = self.export_query(await self.listed(request))
        chunks = csv_chunks(
            self.sessions, statement, self.export_columns, self.zone, self.export_chunk_rows
        )
        return csv_download(chunks, self.get_export_name(export_type))
