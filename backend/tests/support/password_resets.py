"""Password reset emails as their readers get them: rendered from the outbox."""

import re
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI
from sqlalchemy import select

from contoso.mail.messages import render
from contoso.models import MailKind, OutboxEmail

LINK = re.compile(r"https?://\S+/reset-password\?token=\S+")


async def reset_emails(app: FastAPI) -> list[tuple[str, str, str]]:
    """Each password reset email in the outbox, oldest first: (to, its plain text, the
    token its link carries)."""
    async with app.state.database.sessionmaker() as session:
        emails = await session.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.kind == MailKind.PASSWORD_RESET)
            .order_by(OutboxEmail.id)
        )
        read = []
        for email in emails:
            text = render(email, app.state.settings).get_body(("plain",)).get_content()
            [link] = LINK.findall(text)
            [token] = parse_qs(urlsplit(link).query)["token"]
            read.append((email.to_address, text, token))
        return read


async def emailed_token(app: FastAPI, address: str) -> str:
    """The token of the newest reset email to `address`."""
    tokens = [token for to, _, token in await reset_emails(app) if to == address]
    assert tokens, f"no password reset emailed to {address}"
    return tokens[-1]
