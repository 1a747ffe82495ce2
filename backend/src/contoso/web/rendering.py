"""Rendering the employee pages, and the page a browser gets for any error."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse

from contoso.auth.security import Security
from contoso.browser.csrf import CSRF_FIELD, csrf_token
from contoso.browser.login import single_sign_on, sso_only
from contoso.config import EmployeeSignup, EmployerSignup
from contoso.formatting import moment
from contoso.tickets.display import status_badge
from contoso.web.display import (
    RECEIPT_ACCEPT,
    conversion_note,
    editable,
    flag_notes,
    owner_actions,
    payment_note,
    ticket_money,
)
from contoso.web.ticket_forms import filed_elsewhere


def employer_signup(request: Request) -> str:
    """EMPLOYER_SIGNUP, for the register page: whether to offer the employer role, and
    whether to ask for an invitation code with it."""
    security: Security = request.app.state.security
    return security.employer_signup.value


def invitation_hint(request: Request) -> str:
    """What the register page says under the invitation code: who needs one here."""
    security: Security = request.app.state.security
    needed = []
    if security.employee_signup is EmployeeSignup.INVITE:
        needed.append("Needed to register here.")
    elif security.employee_signup is EmployeeSignup.DOMAIN:
        domains = " or ".join(f"@{domain}" for domain in security.allowed_email_domains)
        needed.append(f"Needed for an address that is not {domains}.")
    if security.employer_signup is EmployerSignup.INVITE and not needed:
        needed.append("Needed to register as an employer.")
    return " ".join(
        [
            "If an employer invited you, the code from their email, e.g. K7QX-M2PD-9HTR: "
            "you register as what they invited you as.",
            *needed,
        ]
    )


templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals |= {
    "csrf_token": csrf_token,
    "csrf_field": CSRF_FIELD,
    "status_badge": status_badge,
    "employer_signup": employer_signup,
    "invitation_hint": invitation_hint,
    "flag_notes": flag_notes,
    "payment_note": payment_note,
    "ticket_money": ticket_money,
    "conversion_note": conversion_note,
    "receipt_accept": RECEIPT_ACCEPT,
    "editable": editable,
    "filed_elsewhere": filed_elsewhere,
    "owner_actions": owner_actions,
    "moment": moment,
    "single_sign_on": single_sign_on,
    "sso_only": sso_only,
}

# A one-off message for the next page this browser sees ("Ticket #3 saved.").
NOTICE = "notice"


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    notice = request.session.pop(NOTICE, None) if "session" in request.scope else None
    return templates.TemplateResponse(
        request,
        name,
        {"notice": notice, **(context or {})},
        status_code=status_code,
        headers=headers,
    )


def render_error(
    request: Request, status_code: int, message: str, headers: Mapping[str, str] | None
) -> HTMLResponse:
    """The page for an error on a browser path: the message, with the error's status
    and headers (429 keeps its Retry-After)."""
    return render(request, "error.html", {"error": message}, status_code, headers)
