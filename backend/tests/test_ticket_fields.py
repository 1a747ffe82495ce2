"""Every field of a ticket reaches every door: filed and edited on the pages, shown on
the employee's ticket, worded in the history, labelled on the console's page and in
its CSV export, found by its search. The tests walk `TicketCreate`'s and `TicketRead`'s
fields, so a new field that some door cannot show fails here, not at run time."""

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from httpx import ASGITransport, AsyncClient

from contoso.admin import ticket_columns
from contoso.admin.tickets import TicketAdmin
from contoso.models import Ticket
from contoso.tickets.display import CHANGE_LABELS
from contoso.tickets.fields import REST, arranged, label
from contoso.tickets.schemas import NESTED, TicketCreate, TicketRead, TicketUpdate
from contoso.web.ticket_forms import FORM_FIELDS, TICKET_FIELDS, FormField
from tests.support.console import ConsoleBrowser
from tests.support.forms import submit_form
from tests.web.pages import log_in, ticket_item, words

TYPED = ("text", "textarea", "lines")


def typed_value(field: FormField, version: int) -> str:
    """What a person types in `field` (a text, a list or a date), different per version;
    empty for a field chosen from a list (its default: the company's currency, the
    default category)."""
    if field.widget == "date":
        return date.today().isoformat()
    if field.widget == "amount":
        return f"{20 + version}.50"
    if field.widget == "lines":
        return f"https://{field.name.replace('_', '-')}.example.com/v{version}"
    if field.widget in TYPED:
        return f"{field.name} v{version} as typed"[: field.max_length]
    return ""


def test_every_field_has_a_label_and_a_place_at_every_door():
    fields = list(TicketRead.model_fields)

    assert sorted(field.name for field in FORM_FIELDS) == sorted(TicketCreate.model_fields)
    assert set(TICKET_FIELDS) == set(TicketCreate.model_fields) == set(TicketUpdate.model_fields)
    # An input is a field of the ticket, or names one of its nested objects by id.
    assert all(name in fields or name.removesuffix("_id") in NESTED for name in TICKET_FIELDS)
    assert set(CHANGE_LABELS) == set(fields) and all(CHANGE_LABELS.values())
    assert all(label(name) for name in fields)
    # The console reads mapped tickets: each field is a column, a nested one by its key.
    for name in ticket_columns.DETAIL_FIELDS + ticket_columns.EXPORT_FIELDS:
        assert hasattr(Ticket, ticket_columns.column(name)), name
    shown = set(ticket_columns.DETAIL_FIELDS)
    assert all(column in TicketAdmin.column_labels for column in TicketAdmin.column_details_list)
    assert set(ticket_columns.LIST_FIELDS) <= shown
    assert set(ticket_columns.SEARCHED_FIELDS) <= shown


def test_a_door_places_the_fields_it_does_not_name_where_it_says():
    fields = list(TicketRead.model_fields)

    assert arranged(()) == fields
    assert arranged(("status", REST, "id"))[:1] == ["status"]
    assert arranged(("status", REST, "id"))[-1] == "id"
    assert "receipts" not in arranged((), leave_out=("receipts",))
    with pytest.raises(ValueError, match="no field nope"):
        arranged(("nope",))


async def test_every_filed_field_is_filed_shown_edited_worded_exported_and_searched(
    app, client, factory
):
    boss, alice = await factory.employer(), await factory.employee()
    await log_in(client, alice)
    first = {field.name: typed_value(field, 1) for field in FORM_FIELDS}

    filed = await submit_form(client, "/tickets", first)
    listed = (await client.get("/tickets")).text
    ticket_id = int(re.search(r'data-ticket-id="(\d+)"', listed)[1])
    card = words(ticket_item(listed, ticket_id))
    shown = (await client.get(f"/api/tickets/{ticket_id}", headers=alice.headers)).json()
    edit_page = (await client.get(f"/tickets/{ticket_id}/edit")).text
    second = {field.name: typed_value(field, 2) for field in FORM_FIELDS}
    edited = await submit_form(client, f"/tickets/{ticket_id}/edit", second)
    after = (await client.get(f"/api/tickets/{ticket_id}", headers=alice.headers)).json()

    assert filed.status_code == 303, filed.text
    assert edited.status_code == 303, edited.text
    for field in FORM_FIELDS:
        # The form asks for it, then holds it again to edit.
        assert f'name="{field.name}"' in edit_page, field.name
        if field.widget not in TYPED:
            continue
        as_typed = first[field.name]
        assert shown[field.name] in (as_typed, [as_typed]), field.name
        assert after[field.name] in (second[field.name], [second[field.name]]), field.name
        assert as_typed in edit_page, field.name
        # What an employee filed, their ticket shows.
        assert as_typed in card, field.name
    assert Decimal(after["amount"]) == Decimal(second["amount"])

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        console = ConsoleBrowser(http)
        await console.login_as(boss)
        page = (await console.client.get(f"/admin/tickets/details/{ticket_id}")).text
        export = await console.client.get("/admin/tickets/export/csv")
        found = {
            name: (
                await console.client.get("/admin/tickets/list", params={"search": after[name]})
            ).text
            for name in ticket_columns.SEARCHED_FIELDS
        }

    edits = re.findall(r'<ul class="list-unstyled m-0 changes">(.*?)</ul>', page, re.S)
    history = [words(line) for edit in edits for line in re.findall(r"<li>(.*?)</li>", edit)]
    on_page = words(page)
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    header, row = rows
    exported = dict(zip(header, row, strict=True))
    for field in FORM_FIELDS:
        if field.widget not in TYPED:
            continue
        now = second[field.name]
        # The edit in words, by the field's label; the page and the export show it now.
        assert any(line.startswith(f"{label(field.name)}: ") for line in history), field.name
        assert now in on_page, field.name
        assert now in exported.values(), field.name
    for name in ticket_columns.DETAIL_FIELDS:
        assert ticket_columns.CONSOLE_LABELS.get(name, label(name)) in on_page, name
    for name, listed_page in found.items():
        assert f"/admin/tickets/details/{ticket_id}" in listed_page, name
    assert len(header) >= len(ticket_columns.EXPORT_FIELDS)
