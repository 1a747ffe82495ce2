"""The settings on the pages: emails about your own tickets, on or off."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from contoso.auth import service as auth
from contoso.browser.forms import EMAIL_NOTIFICATIONS, UNREADABLE_FORM, read_form
from contoso.database import SessionDep
from contoso.web.dependencies import CurrentFiler
from contoso.web.rendering import NOTICE

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


# Under /tickets: a browser path (main.is_browser_path), so it has a session and needs
# a CSRF token; two segments, so that no /tickets/{ticket_id} route claims it.
@router.post("/tickets/settings/emails")
async def set_email_notifications(
    request: Request, session: SessionDep, user: CurrentFiler
) -> Response:
    """Turn emails about the user's own tickets on or off, as the form says."""
    form = await read_form(request)
    chosen = form.get(EMAIL_NOTIFICATIONS)
    if chosen not in ("on", "off"):
        raise HTTPException(400, UNREADABLE_FORM)
    await auth.set_email_notifications(session, user, chosen == "on")
    request.session[NOTICE] = (
        "You will get emails about your tickets."
        if chosen == "on"
        else "You will get no more emails about your tickets."
    )
    return RedirectResponse("/tickets", status_code=303)
