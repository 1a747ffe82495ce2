"""The console's employees: suspended and reactivated through the employee service."""

from typing import ClassVar
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqladmin import action
from sqladmin.filters import BooleanFilter
from sqladmin.flash import Flash
from sqlalchemy import false, or_
from starlette.requests import Request
from starlette.responses import Response

from contoso.admin.compat import AnySelect
from contoso.admin.views import (
    ConsoleView,
    contains,
    outcome_message,
    pk_of,
    selection,
)
from contoso.employees import service as employees_service
from contoso.employees.queries import employees, with_ticket_counts
from contoso.formatting import isolated
from contoso.models import User


def state_badge(employee: User) -> Markup:
    """A coloured badge naming whether the employee may log in (Tabler's light colours)."""
    if employee.suspended:
        return Markup('<span class="badge bg-red-lt state">Suspended</span>')
    return Markup('<span class="badge bg-green-lt state">Active</span>')


class EmployeeAdmin(ConsoleView, model=User):
    url_identity = "employees"
    name = "Employee"
    name_plural = "Employees"
    icon = "fa-solid fa-users"
    can_export = False
    # Titled with the person's name; offers the one action that applies.
    details_template = "employee_details.html"

    # Every column shows whole at 1366 px wide, beside the filters (see `for_app`).
    column_list: ClassVar = [
        User.email,
        User.username,
        User.suspended,
        "pending_tickets",
        "total_tickets",
        User.created_at,
    ]
    column_details_list: ClassVar = [User.id, *column_list]
    column_labels: ClassVar = {
        User.id: "#",
        User.email: "Email",
        User.username: "Name",
        User.suspended: "State",
        "pending_tickets": "Pending tickets",
        "total_tickets": "All tickets",
        User.created_at: "Joined",
    }
    column_formatters: ClassVar = {
        User.email: lambda employee, _: isolated(employee.email),
        User.username: lambda employee, _: isolated(employee.username),
        User.suspended: lambda employee, _: state_badge(employee),
    }
    column_formatters_detail = column_formatters
    column_searchable_list: ClassVar = [User.email, User.username]
    column_sortable_list: ClassVar = [User.email, User.username, User.created_at]
    column_default_sort: ClassVar = [(User.created_at, True), (User.id, True)]
    column_filters: ClassVar = [BooleanFilter(User.suspended, title="Suspended")]

    @classmethod
    def for_app(cls, zone: ZoneInfo, company_currency: str) -> type[ConsoleView]:
        view = super().for_app(zone, company_currency)
        # The list shows the day each joined, in TIMEZONE; their page shows the minute.
        view.column_formatters = cls.column_formatters | {
            User.created_at: lambda employee, _: employee.created_at.astimezone(zone)
            .date()
            .isoformat()
        }
        return view

    def search_query(self, stmt: AnySelect, term: str) -> AnySelect:
        pattern = contains(term)
        return stmt.where(or_(User.email.ilike(pattern), User.username.ilike(pattern)))

    def list_query(self, request: Request) -> AnySelect:
        return with_ticket_counts(employees())

    def details_query(self, request: Request) -> AnySelect:
        employee_id = pk_of(request)
        statement = with_ticket_counts(employees())
        return statement.where(User.id == employee_id if employee_id else false())

    # The detail page offers whichever of the two applies (employee_details.html).
    # SQLAdmin lists actions last defined first: the menu reads Suspend, then Reactivate.
    @action("reactivate", "Reactivate", add_in_detail=False, add_in_list=True)
    async def reactivate(self, request: Request) -> Response:
        return await self._set_suspended(request, suspend=False)

    @action("suspend", "Suspend", add_in_detail=False, add_in_list=True)
    async def suspend(self, request: Request) -> Response:
        return await self._set_suspended(request, suspend=True)

    async def _set_suspended(self, request: Request, *, suspend: bool) -> Response:
        verb = "Suspend" if suspend else "Reactivate"
        form, ids = await selection(request)
        if ids is None:
            Flash.warning(request, f"Select at least one employee to {verb.lower()} first.")
            return self.back_to_list(request, form)
        if form is None:
            async with self.sessions() as session:
                people = await employees_service.employees_by_ids(
                    session, request.state.employer, ids
                )
            return await self.confirmation(
                request,
                verb,
                people,
                {
                    "pks": ",".join(str(i) for i in ids),
                    "missing": len(ids) - len(people),
                },
            )
        change = (
            employees_service.suspend_employees
            if suspend
            else employees_service.reactivate_employees
        )
        async with self.sessions.begin() as session:
            outcome = await change(session, request.state.employer, ids)
        past = "Suspended" if suspend else "Reactivated"
        message = outcome_message(past, "employee", len(outcome.changed), outcome.skipped)
        (Flash.success if outcome.changed else Flash.warning)(request, message)
        return self.back_to_list(request, form)
