"""What the browser tests share: the Chromium they drive, their screenshots, and the
emails the served app writes."""

import asyncio
import os
import shutil
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from playwright.async_api import Page

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
# The flags this machine needs: no sandbox as root, and no calls home on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Skipped where Chromium is missing, except in CI, where a missing browser fails.
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("E2E_REQUIRED"),
    reason="Chromium is not installed (apt-get install chromium); CI sets E2E_REQUIRED",
)


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def _written_email(outbox: Path, to: str, says: str) -> str | None:
    for path in sorted(outbox.glob("*.eml")):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        if to in str(message["To"]) and says in text:
            return str(text)
    return None


async def emailed(outbox: Path, to: str, says: str) -> str:
    """The plain text of the email the running service wrote to `to` saying `says`: with
    no SMTP_URL it writes them to DATA_DIR/outbox/*.eml. Waits for the sender's next
    round (every few seconds)."""
    for _ in range(60):
        text = await asyncio.to_thread(_written_email, outbox, to, says)
        if text is not None:
            return text
        await asyncio.sleep(0.5)
    pytest.fail(f"no email to {to} saying {says!r} in {outbox}")
