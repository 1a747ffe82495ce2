"""The employee pages, one router for main.py: each area's pages come from its module.

Their paths never claim each other's (`/tickets/settings/emails` and
`/tickets/settings/password` have two segments, and no page route is
`POST /tickets/{ticket_id}`), so the order of the areas is free."""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from contoso.web import account, editing, login, passwords, sso, ticket_page, tickets

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
for area in (login, sso, passwords, tickets, editing, ticket_page, account):
    router.include_router(area.router)
