"""The console's categories as an employer keeps them: created and changed on forms,
retired and brought back, never deleted; every refusal said on the form."""

import re

from tests.support.factories import PASSWORD
from tests.support.forms import csrf_from, submit_form


async def category(client, employer, **fields):
    response = await client.post("/api/categories", json=fields, headers=employer.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def categories(client, account, **params):
    response = await client.get("/api/categories", params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return {c["name"]: c for c in response.json()}


async def default_category(client, employer):
    return next(c for c in (await categories(client, employer)).values() if c["is_default"])


def edit_form(current: dict, **changes: str | bool) -> dict[str, str]:
    """The edit form as the page fills it, with `changes` typed over it; `active`
    False leaves the checkbox unticked (a browser then sends nothing)."""
    fields = {
        "name": current["name"],
        "description": current["description"],
        "max_amount": current["max_amount"] or "",
        "receipt_required_above": current["receipt_required_above"] or "",
        "active": current["active"],
    } | changes
    active = fields.pop("active")
    return fields | ({"active": "on"} if active else {})


async def test_an_employer_creates_a_category_and_finds_it_listed_with_its_limits(
    browser, factory, client
):
    boss = await factory.employer()
    await browser.login_as(boss)

    created = await submit_form(
        browser.client,
        "/admin/categories/new",
        {
            "name": "Travel",
            "description": "Flights, trains and hotels",
            "max_amount": "1500",
            "receipt_required_above": " ",
        },
    )
    listed = await browser.client.get(created.headers["location"])

    assert created.status_code == 303
    assert "Category “Travel” created." in listed.text
    assert '<span class="amount">$1,500.00</span>' in listed.text
    assert "Flights, trains and hotels" in listed.text
    travel = (await categories(client, boss))["Travel"]
    assert travel["max_amount"] == "1500.00"
    assert travel["receipt_required_above"] is None  # blank: never required
    assert f'href="{travel["id"]}/edit"><bdi>Travel</bdi></a>' in listed.text


async def test_a_taken_name_or_a_bad_amount_is_said_on_the_form_as_typed(browser, factory, client):
    boss = await factory.employer()
    await category(client, boss, name="Travel")
    await browser.login_as(boss)

    taken = await submit_form(
        browser.client, "/admin/categories/new", {"name": "TRAVEL", "max_amount": "80.00"}
    )
    bad_amount = await submit_form(
        browser.client, "/admin/categories/new", {"name": "Meals", "max_amount": "lots"}
    )

    assert taken.status_code == 409
    assert "A category named “TRAVEL” already exists (names ignore capitals)." in taken.text
    assert 'value="TRAVEL"' in taken.text and 'value="80.00"' in taken.text
    assert bad_amount.status_code == 400
    assert 'id="max_amount-error">Amount must be' in bad_amount.text
    assert set(await categories(client, boss)) == {"General", "Travel"}


async def test_a_new_limit_flags_pending_tickets_and_a_blank_one_clears_them(
    browser, factory, client
):
    alice, boss = await factory.employee(), await factory.employer()
    meals = await category(client, boss, name="Meals", max_amount="30.00")
    ticket = await factory.ticket(alice, category_id=meals["id"], amount="45.00")
    await browser.login_as(boss)
    url = f"/admin/categories/{meals['id']}/edit"

    form = await browser.client.get(url)
    saved = await browser.client.post(
        url, data=edit_form(meals, max_amount="") | {"csrf_token": csrf_from(form)}
    )

    assert 'value="30.00"' in form.text  # a plain decimal, which the form reads back
    assert saved.status_code == 303
    assert (await categories(client, boss))["Meals"]["max_amount"] is None
    seen = await client.get(f"/api/tickets/{ticket['id']}", headers=alice.headers)
    assert seen.json()["flags"] == []
    listed = await browser.client.get(saved.headers["location"])
    assert "Category “Meals” saved." in listed.text
    assert "No limit" in listed.text


async def test_a_deactivated_category_is_shown_inactive_and_offered_to_nobody_until_reactivated(
    browser, factory, client
):
    alice, boss = await factory.employee(), await factory.employer()
    meals = await category(client, boss, name="Meals")
    await browser.login_as(boss)
    url = f"/admin/categories/{meals['id']}/edit"

    form = await browser.client.get(url)
    await browser.client.post(
        url, data=edit_form(meals, active=False) | {"csrf_token": csrf_from(form)}
    )
    inactive_list = await browser.client.get("/admin/categories/list")
    inactive_form = await browser.client.get(url)
    offered_while_inactive = set(await categories(client, alice))
    await browser.client.post(
        url, data=edit_form(meals, active=True) | {"csrf_token": csrf_from(inactive_form)}
    )

    row = re.search(r"<tr>(?:(?!</tr>).)*>Meals</bdi></a>.*?</tr>", inactive_list.text, re.S)[0]
    assert "Inactive" in row
    assert "Inactive" in inactive_form.text
    assert "checked" not in inactive_form.text.split('id="category-active"')[1].split(">")[0]
    assert offered_while_inactive == {"General"}
    assert set(await categories(client, alice)) == {"General", "Meals"}


async def test_the_default_category_cannot_be_deactivated(browser, factory, client):
    boss = await factory.employer()
    general = await default_category(client, boss)
    await browser.login_as(boss)
    url = f"/admin/categories/{general['id']}/edit"

    form = await browser.client.get(url)
    refused = await browser.client.post(
        url, data=edit_form(general, active=False) | {"csrf_token": csrf_from(form)}
    )

    assert "it cannot be deactivated" in form.text  # said before trying
    assert refused.status_code == 409
    assert 'id="form-error">“General” is the default category' in refused.text
    assert (await default_category(client, boss))["active"] is True


async def test_categories_are_never_deleted_and_forms_need_an_employer_and_their_token(
    browser, factory, client
):
    alice, boss = await factory.employee(), await factory.employer()
    meals = await category(client, boss, name="Meals")
    await browser.login_as(boss)
    page = await browser.client.get("/admin/categories/list")

    deleted = await browser.client.delete(
        "/admin/categories/delete",
        params={"pks": meals["id"]},
        headers={"X-CSRF-Token": csrf_from(await browser.client.get("/admin/categories/new"))},
    )
    forged = await browser.client.post("/admin/categories/new", data={"name": "Forged"})
    unknown = await browser.client.get("/admin/categories/999999/edit")
    nonsense = await browser.client.get("/admin/categories/abc/edit")
    client.cookies.clear()  # another browser
    await submit_form(client, "/", {"email": alice.email, "password": PASSWORD})
    as_employee = await client.get(f"/admin/categories/{meals['id']}/edit")

    assert "fa-trash" not in page.text
    assert deleted.status_code == 403
    assert forged.status_code == 403
    assert unknown.status_code == nonsense.status_code == 404
    assert as_employee.status_code == 302  # to the console's login
    assert set(await categories(client, boss)) == {"General", "Meals"}
