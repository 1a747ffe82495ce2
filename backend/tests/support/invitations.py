"""Invitations as the invited read them: the emails in the outbox, rendered."""

import re
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI
from sqlalchemy import select

from contoso.mail.messages import render
from contoso.models import MailKind, OutboxEmail

LINK = re.compile(r"https?://\S+/\?invitation=\S+")


async def invitation_emails(app: FastAPI) -> list[tuple[str, str, str]]:
    """Each invitation email in the outbox, oldest first: (to, its plain text, the code
    its link carries)."""
    async with app.state.database.sessionmaker() as session:
        emails = await session.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.kind == MailKind.INVITATION)
            .order_by(OutboxEmail.id)
        )
        read = []
        for email in emails:
            message = render(email, app.state.settings)
            text = message.get_body(("plain",)).get_content()
            [link] = LINK.findall(text)
            [code] = parse_qs(urlsplit(link).query)["invitation"]
            read.append((email.to_address, text, code))
        return read


async def emailed_code(app: FastAPI, address: str) -> str:
    """The code of the newest invitation email to `address`."""
    codes = [code for to, _, code in await invitation_emails(app) if to == address]
    assert codes, f"no invitation emailed to {address}"
    return codes[-1]
