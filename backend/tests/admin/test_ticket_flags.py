"""Policy flags in the console: what the list, the export and a ticket's page show of
them, the filters, and approvals that leave flagged tickets alone unless asked."""

import csv
import io
import re

import pytest

from tests.support.forms import csrf_from


async def category(client, employer, **fields):
    response = await client.post("/api/categories", json=fields, headers=employer.headers)
    assert response.status_code == 201, response.text
    return response.json()


def rows_of(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def listed_ids(page) -> list[int]:
    assert page.status_code == 200, page.text
    return [int(i) for i in re.findall(r'<input type="hidden" value="(\d+)">', page.text)]


@pytest.fixture
async def policy(factory, client):
    """Alice's tickets: one over the Travel limit, one without a receipt it needs, two
    alike, and one unflagged; an employer."""
    alice, boss = await factory.employee(), await factory.employer()
    travel = await category(client, boss, name="Travel", max_amount="100.00")
    meals = await category(client, boss, name="Meals", receipt_required_above="25.00")
    tickets = {
        "over": await factory.ticket(alice, category_id=travel["id"], amount="150.00"),
        "no_receipt": await factory.ticket(alice, category_id=meals["id"], amount="40.00"),
        "first": await factory.ticket(alice, amount="19.90", spent_on="2026-01-05"),
        "again": await factory.ticket(alice, amount="19.90", spent_on="2026-01-05"),
        "plain": await factory.ticket(alice, category_id=travel["id"], amount="60.00"),
    }
    return alice, boss, {"travel": travel, "meals": meals}, tickets


async def test_the_list_shows_each_tickets_category_and_flags_as_badges(browser, policy):
    _, boss, _, tickets = policy
    await browser.login_as(boss)

    page = (await browser.client.get("/admin/tickets/list")).text

    rows = {
        int(i): row
        for i, row in re.findall(r'<input type="hidden" value="(\d+)">(.*?)</tr>', page, re.S)
    }
    badges = {
        name: re.findall(r'class="badge bg-orange-lt flag">([^<]+)<', rows[ticket["id"]])
        for name, ticket in tickets.items()
    }
    assert badges == {
        "over": ["Over limit"],
        "no_receipt": ["Receipt missing"],
        "first": ["Possible duplicate"],
        "again": ["Possible duplicate"],
        "plain": [],
    }
    assert 'title="Category: Travel"><bdi>Travel</bdi></span>' in rows[tickets["plain"]["id"]]
    assert 'title="Category: General"><bdi>General</bdi></span>' in rows[tickets["first"]["id"]]
    # Still the columns a reviewer decides by: flags sit under the status, the category
    # under the description (the list fits 1366 px wide, see the end-to-end test).
    assert "badge bg-yellow-lt status" in rows[tickets["over"]["id"]]


async def test_filters_by_flag_and_category_narrow_the_list_and_its_export(browser, policy):
    _, boss, groups, tickets = policy
    ids = {name: ticket["id"] for name, ticket in tickets.items()}
    await browser.login_as(boss)

    def get(path, **params):
        return browser.client.get(f"/admin/tickets/{path}", params=params)

    flagged = listed_ids(await get("list", flag="flagged"))
    unflagged = listed_ids(await get("list", flag="unflagged"))
    over = listed_ids(await get("list", flag="over_limit"))
    duplicates = listed_ids(await get("list", flag="possible_duplicate"))
    travel = listed_ids(await get("list", category=groups["travel"]["id"]))
    travel_flagged = rows_of(
        await get("export/csv", category=groups["travel"]["id"], flag="flagged")
    )
    menu = (await get("list")).text

    assert sorted(flagged) == sorted([ids["over"], ids["no_receipt"], ids["first"], ids["again"]])
    assert unflagged == [ids["plain"]]
    assert over == [ids["over"]]
    assert sorted(duplicates) == sorted([ids["first"], ids["again"]])
    assert sorted(travel) == sorted([ids["over"], ids["plain"]])
    assert [(r["Ticket"], r["Category"], r["Flags"]) for r in travel_flagged] == [
        (str(ids["over"]), "Travel", "Over limit")
    ]
    # The filter sidebar offers them, by name.
    offered = dict(re.findall(r'\?(\w+=\w+)" class="d-block[^>]*>\s*([^<]+?)\s*</a>', menu))
    assert offered[f"category={groups['meals']['id']}"] == "Meals"
    assert offered["flag=receipt_missing"] == "Receipt missing"


async def test_the_export_names_every_flag_and_neutralises_a_category_named_like_a_formula(
    browser, factory, client
):
    alice, boss = await factory.employee(), await factory.employer()
    formula = await category(
        client, boss, name="=HYPERLINK(1)", max_amount="10.00", receipt_required_above="5.00"
    )
    await factory.ticket(alice, category_id=formula["id"], amount="50.00", spent_on="2026-02-01")
    await factory.ticket(alice, category_id=formula["id"], amount="50.00", spent_on="2026-02-01")
    await browser.login_as(boss)

    rows = rows_of(await browser.client.get("/admin/tickets/export/csv"))

    assert {row["Category"] for row in rows} == {"'=HYPERLINK(1)"}
    assert {row["Flags"] for row in rows} == {"Over limit, Receipt missing, Possible duplicate"}


@pytest.mark.parametrize(("parameter", "value"), [("flag", "bogus"), ("category", "travel")])
async def test_an_unknown_flag_or_category_to_filter_by_is_a_400_that_says_so(
    browser, factory, parameter, value
):
    await browser.login_as(await factory.employer())

    response = await browser.client.get("/admin/tickets/list", params={parameter: value})

    assert response.status_code == 400
    assert f"There is no such {parameter} to filter by" in response.text


async def test_a_tickets_page_explains_each_flag_and_links_to_its_duplicates(browser, policy):
    _, boss, _, tickets = policy
    await browser.login_as(boss)

    def page(name):
        return browser.client.get(f"/admin/tickets/details/{tickets[name]['id']}")

    over, no_receipt, again, plain = [
        (await page(name)).text for name in ("over", "no_receipt", "again", "plain")
    ]

    assert "Over the Travel limit of $100.00" in over
    assert "Receipt required above $25.00 and none attached" in no_receipt
    first = tickets["first"]["id"]
    assert f'Possible duplicate of <a href="{first}">#{first}</a>' in again
    assert 'id="flags"' not in plain and "Travel" in plain


async def test_a_bulk_approval_lists_flagged_tickets_apart_and_leaves_them_unless_included(
    browser, policy, client
):
    alice, boss, _, tickets = policy
    chosen = [tickets[name]["id"] for name in ("over", "no_receipt", "plain")]
    await browser.login_as(boss)

    page = await browser.client.get(
        "/admin/tickets/action/approve", params={"pks": ",".join(map(str, chosen))}
    )
    unticked = await browser.client.post(
        "/admin/tickets/action/approve",
        data={"pks": ",".join(map(str, chosen)), "csrf_token": csrf_from(page)},
    )
    after_unticked = await browser.client.get(unticked.headers["location"])

    flagged_part = page.text.split('id="flagged-tickets"')[1].split("</table>")[0]
    assert "2 flagged tickets, totalling $190.00" in page.text
    assert "Over limit" in flagged_part and "Receipt missing" in flagged_part
    assert f">{tickets['plain']['id']}<" not in flagged_part
    assert re.search(
        r'<input class="form-check-input" type="checkbox" id="include-flagged"'
        r' name="include_flagged">',
        page.text,
    )  # unticked
    assert "Also approve the 2 flagged tickets" in page.text
    assert (
        "Approved 1 ticket; 2 skipped: 2 flagged (approve it on its own, or include flagged "
        "tickets)." in after_unticked.text
    )
    statuses = await _statuses(client, alice)
    assert [statuses[i] for i in chosen] == ["pending", "pending", "approved"]

    ticked = await browser.confirm("tickets", "approve", chosen, include_flagged="on")
    after_ticked = await browser.client.get(ticked.headers["location"])

    assert "Approved 2 tickets; 1 skipped: 1 already decided." in after_ticked.text
    statuses = await _statuses(client, alice)
    assert [statuses[i] for i in chosen] == ["approved", "approved", "approved"]


async def test_a_denial_decides_flagged_tickets_without_asking(browser, policy, client):
    alice, boss, _, tickets = policy
    await browser.login_as(boss)

    page = await browser.client.get(
        "/admin/tickets/action/deny", params={"pks": tickets["over"]["id"]}
    )
    await browser.confirm("tickets", "deny", [tickets["over"]["id"]])

    assert "include_flagged" not in page.text
    assert (await _statuses(client, alice))[tickets["over"]["id"]] == "denied"


async def test_approving_from_a_tickets_own_page_approves_it_though_flagged(
    browser, policy, client
):
    alice, boss, _, tickets = policy
    ticket_id = tickets["over"]["id"]
    await browser.login_as(boss)

    details = await browser.client.get(f"/admin/tickets/details/{ticket_id}")
    link = re.search(r'href="([^"]*/action/approve\?[^"]*)"', details.text)[1]
    page = await browser.client.get(link.replace("&amp;", "&"))
    done = await browser.client.post(
        "/admin/tickets/action/approve",
        data={"pks": str(ticket_id), "opened": "1", "csrf_token": csrf_from(page)},
    )
    again = await browser.client.post(
        "/admin/tickets/action/approve",
        data={"pks": str(ticket_id), "opened": "1", "csrf_token": csrf_from(page)},
    )
    after = await browser.client.get(again.headers["location"])

    assert "opened=1" in link
    assert "include_flagged" not in page.text
    assert "deciding it from its page decides it anyway" in page.text
    assert done.status_code == 303
    assert (await _statuses(client, alice))[ticket_id] == "approved"
    assert "Approved 1 ticket." in after.text
    assert f"Ticket {ticket_id} was already approved; decisions are final." in after.text


async def _statuses(client, owner) -> dict[int, str]:
    response = await client.get("/api/tickets", headers=owner.headers)
    return {t["id"]: t["status"] for t in response.json()["items"]}
