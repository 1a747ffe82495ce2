"""Reading the employee pages as a person does: their words, one ticket of the list,
one paragraph; and logging in through the form."""

import html
import re

from tests.support.factories import PASSWORD, Account
from tests.support.forms import submit_form


def words(markup: str) -> str:
    """`markup` as a reader sees it: no tags, entities decoded, spaces collapsed (an
    isolated name, `<bdi>`, runs on with the words around it)."""
    inline = re.sub(r"</?bdi>", "", markup)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline)).split())


def text_of(page: str, element_id: str) -> str:
    """The words of the paragraph with `element_id`."""
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</p>', page, re.S)
    assert match, f"no #{element_id} on the page"
    return words(match.group(1))


def ticket_item(page: str, ticket_id: int) -> str:
    """The markup of one ticket in the My tickets list."""
    start = page.index(f'data-ticket-id="{ticket_id}"')
    end = page.find('class="list-group-item ticket"', start)
    return page[start : end if end != -1 else len(page)]


async def log_in(client, account: Account) -> None:
    response = await submit_form(client, "/", {"email": account.email, "password": PASSWORD})
    assert response.status_code == 303
