"""What every console view shares: read-only lists over the shared queries, actions
through the services, selections, filters and messages."""

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sqladmin import ModelView
from sqladmin.filters import StaticValuesFilter
from sqladmin.formatters import BASE_FORMATTERS
from sqladmin.pagination import Pagination
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from contoso.employees.schemas import EmployeeSkip
from contoso.formatting import moment
from contoso.tickets.schemas import TicketSkip
from contoso.validation import MAX_RECORD_ID, MAX_SELECTION, search_text
from contoso.web.forms import read_form

# SQLAdmin's hooks take and return statements of any columns.
AnySelect = Select[*tuple[Any, ...]]


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

    async def get_filtered_query(self, query: AnySelect, value: Any, model: Any) -> AnySelect:
        choices = [choice for choice, _ in self.values]
        if value not in (None, "", "__all", *choices):
            raise HTTPException(
                400,
                f"There is no such {self.parameter_name} to filter by; "
                f"choose {_either(choices)}.",
            )
        filtered: AnySelect = await super().get_filtered_query(query, value, model)
        return filtered


def pk_of(request: Request) -> int | None:
    ids = parse_ids(request.path_params.get("pk", ""))
    return ids[0] if ids and len(ids) == 1 else None


def outcome_message(
    verb: str, noun: str, done: int, skipped: Mapping[int, TicketSkip | EmployeeSkip]
) -> str:
    message = f"{verb} {done} {noun}{'' if done == 1 else 's'}"
    if skipped:
        reasons = Counter(skipped.values())
        parts = ", ".join(f"{count} {reason.label}" for reason, count in reasons.items())
        message += f"; {len(skipped)} skipped: {parts}"
    return message + "."


class ConsoleView(ModelView):
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

    @classmethod
    def for_app(cls, zone: ZoneInfo) -> "type[ConsoleView]":
        """A subclass of this view for one app: SQLAdmin stores its admin and engine on
        the view class, and two apps (tests make several) must not share them."""
        formatters = BASE_FORMATTERS | {datetime: partial(moment, zone=zone)}
        attributes = {
            "identity": cls.url_identity,
            "column_type_formatters": formatters,
            "column_type_formatters_detail": formatters,
            "zone": zone,
        }
        return type(cls.__name__, (cls,), attributes)

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        # SQLAdmin types its session maker as sync or async; ours is async (mount_console).
        assert isinstance(self.session_maker, async_sessionmaker)
        return self.session_maker

    async def _confirm(
        self, request: Request, verb: str, items: Sequence[Any], context: dict[str, Any]
    ) -> Response:
        return await self.templates.TemplateResponse(
            request,
            "confirm.html",
            {"model_view": self, "verb": verb, "items": items, "title": verb} | context,
        )

    def _back_to_list(self, request: Request) -> RedirectResponse:
        # 303: the browser follows with a GET, so a reload does not repeat the action.
        return RedirectResponse(request.url_for("admin:list", identity=self.identity), 303)

    async def list(self, request: Request) -> Pagination:
        # Checked before any query: PostgreSQL cannot take NUL in text (a 500 otherwise).
        try:
            search_text(request.query_params.get("search", ""))
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from exc
        return await super().list(request)
