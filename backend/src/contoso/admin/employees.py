"""The console's employees: suspended and reactivated through the employee service."""

from typing import ClassVar

from sqladmin import action
from sqladmin.filters import BooleanFilter
from sqladmin.flash import Flash
from sqlalchemy import false, or_
from starlette.requests import Request
from starlette.responses import Response

from contoso.admin.views import (
    AnySelect,
    ConsoleView,
    contains,
    outcome_message,
    pk_of,
    selection,
)
from contoso.employees import service as employees_service
from contoso.employees.queries import employees, with_ticket_counts
from contoso.models import User


class EmployeeAdmin(ConsoleView, model=User):
    url_identity = "employees"
    name = "Employee"
    name_plural = "Employees"
    icon = "fa-solid fa-users"
    can_export = False

    column_list: ClassVar = [
        User.id,
        User.email,
        User.username,
        User.suspended,
        "pending_tickets",
        "total_tickets",
        User.created_at,
    ]
    column_details_list = column_list
    column_labels: ClassVar = {
        User.id: "#",
        User.email: "Email",
        User.username: "Name",
        User.suspended: "Suspended",
        "pending_tickets": "Pending tickets",
        "total_tickets": "All tickets",
        User.created_at: "Joined",
    }
    column_searchable_list: ClassVar = [User.email, User.username]
    column_sortable_list: ClassVar = [User.email, User.username, User.created_at]
    column_default_sort: ClassVar = [(User.created_at, True), (User.id, True)]
    column_filters: ClassVar = [BooleanFilter(User.suspended, title="Suspended")]

    def search_query(self, stmt: AnySelect, term: str) -> AnySelect:
        pattern = contains(term)
        return stmt.where(or_(User.email.ilike(pattern), User.username.ilike(pattern)))

    def list_query(self, request: Request) -> AnySelect:
        return with_ticket_counts(employees())

    def details_query(self, request: Request) -> AnySelect:
        employee_id = pk_of(request)
        statement = with_ticket_counts(employees())
        return statement.where(User.id == employee_id if employee_id else false())

    @action("suspend", "Suspend", add_in_detail=True, add_in_list=True)
    async def suspend(self, request: Request) -> Response:
        return await self._set_suspended(request, suspend=True)

    @action("reactivate", "Reactivate", add_in_detail=True, add_in_list=True)
    async def reactivate(self, request: Request) -> Response:
        return await self._set_suspended(request, suspend=False)

    async def _set_suspended(self, request: Request, *, suspend: bool) -> Response:
        verb = "Suspend" if suspend else "Reactivate"
        form, ids = await selection(request)
        if ids is None:
            return await self._confirm(
                request, verb, [], {"error": "Select at least one employee first."}
            )
        if form is None:
            async with self.sessions() as session:
                people = await employees_service.employees_by_ids(
                    session, request.state.employer, ids
                )
            return await self._confirm(
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
        Flash.success(
            request, outcome_message(past, "employee", len(outcome.changed), outcome.skipped)
        )
        return self._back_to_list(request)
