"""Every declared status and transition (`tickets.workflow`) is known to every door and
every display that should know it: the API's routes and bulk decisions, the console's
actions, buttons and history, the audit log, the employee pages, the running totals and
the emails. A declaration a door forgot fails here, not as a KeyError on a page."""

import inspect
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

from contoso.admin.audit import KIND_LABELS
from contoso.admin.ticket_reviews import REVIEWS, reviews_from, waiting
from contoso.admin.tickets import HISTORY_LABELS, STATUS_ORDER, TicketAdmin
from contoso.dashboard.totals import Tally
from contoso.mail import messages
from contoso.mail.payloads import PAYLOADS, MailTicket, facts_of
from contoso.models import TicketStatus
from contoso.tickets.display import status_badge
from contoso.tickets.schemas import BULK, BulkDecision, TicketSkip
from contoso.tickets.workflow import COUNTED_IN, STATUSES, TRANSITIONS, Actor, Transition
from contoso.web import ticket_page
from contoso.web.display import OWNER_ACTIONS

MAIL_TEMPLATES = Path(messages.__file__).parent / "templates"
# Tabler's colours, each with a light badge (`bg-<colour>-lt`).
TABLER_COLOURS = {
    "blue",
    "azure",
    "indigo",
    "purple",
    "pink",
    "red",
    "orange",
    "yellow",
    "lime",
    "green",
    "teal",
    "cyan",
}
GENERIC = [t for t in TRANSITIONS.values() if not t.own_door]


def _api_posts(app) -> set[str]:
    """The paths the API takes a POST at, as its published document says."""
    return {path for path, item in app.openapi()["paths"].items() if "post" in item}


def _page_posts() -> set[str]:
    return {
        route.path
        for route in ticket_page.router.routes
        if isinstance(route, APIRoute) and "POST" in route.methods
    }


@pytest.mark.parametrize("status", list(TicketStatus))
def test_every_status_is_declared_and_reads_on_every_page(status):
    declared = STATUSES[status]
    assert declared.colour in TABLER_COLOURS
    assert f"bg-{declared.colour}-lt" in status_badge(status)
    assert declared.amount_lead
    assert status in STATUS_ORDER  # the console's status filter
    assert set(declared.tallies) <= set(Tally)
    assert all(status in COUNTED_IN[tally] for tally in declared.tallies)


@pytest.mark.parametrize("status", list(TicketStatus))
def test_a_status_an_employer_may_act_from_says_so_on_the_tickets_page(status):
    if reviews_from(status):
        assert waiting(status)


@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_every_transition_is_worded_and_in_the_history_and_the_audit_log(name):
    transition = TRANSITIONS[name]
    assert transition.label and transition.done and transition.logged
    assert HISTORY_LABELS[transition.event] == transition.history_label
    assert KIND_LABELS[transition.event] == transition.logged
    if transition.asks is not None:
        assert transition.by is Actor.EMPLOYER
        assert transition.asks.question and transition.asks.ask and transition.asks.why
    if transition.question:
        assert transition.question.format(tickets="2 tickets")


@pytest.mark.parametrize("transition", GENERIC, ids=lambda t: t.name)
def test_every_transition_has_its_api_route(transition: Transition, app):
    assert f"/api/tickets/{{ticket_id}}/{transition.slug}" in _api_posts(app)


def test_paying_has_a_door_of_its_own(app):
    assert [t.name for t in TRANSITIONS.values() if t.own_door] == ["pay"]
    assert "/api/payments" in _api_posts(app)


def test_the_bulk_decision_offers_every_employers_transition_and_its_skip_reasons():
    employers = [t.name for t in GENERIC if t.by is Actor.EMPLOYER]
    assert [t.name for t in BULK] == employers
    schema = BulkDecision.model_json_schema()
    assert schema["properties"]["decision"]["enum"] == employers
    reasons = {r.skip.value for t in BULK for r in t.refusals.values()}
    assert reasons | {"not_found", "own_ticket"} == {skip.value for skip in TicketSkip}


@pytest.mark.parametrize("transition", GENERIC, ids=lambda t: t.name)
def test_a_bulk_decision_needs_a_note_exactly_where_the_transition_asks_for_one(transition):
    if transition.by is not Actor.EMPLOYER:
        return
    body = {"ticket_ids": [1], "decision": transition.name}
    if transition.asks is None:
        assert BulkDecision.model_validate(body).decision == transition.name
    else:
        with pytest.raises(ValueError, match=transition.asks.ask):
            BulkDecision.model_validate(body)
        assert BulkDecision.model_validate(body | {"note": "Why"}).note == "Why"


def test_every_employers_transition_is_a_console_action_in_the_declared_order():
    slugs = [
        method._slug
        for _, method in sorted(
            inspect.getmembers(TicketAdmin, lambda m: hasattr(m, "_action")),
            key=lambda member: inspect.unwrap(member[1]).__code__.co_firstlineno,
            reverse=True,
        )
    ]
    employers = [t for t in TRANSITIONS.values() if t.by is Actor.EMPLOYER]
    assert slugs == [t.slug for t in REVIEWS] + [t.slug for t in employers if t.own_door]
    labels = {
        method._slug: method._label
        for _, method in inspect.getmembers(TicketAdmin)
        if hasattr(method, "_action")
    }
    assert labels == {t.slug: t.label for t in employers}


@pytest.mark.parametrize("transition", OWNER_ACTIONS, ids=lambda t: t.name)
def test_every_owners_transition_is_a_route_of_the_pages(transition):
    assert f"/tickets/{{ticket_id}}/{transition.slug}" in _page_posts()


def test_every_transition_is_offered_by_the_doors_of_its_role():
    employers = {t.name for t in REVIEWS}
    owners = {t.name for t in OWNER_ACTIONS}
    for transition in GENERIC:
        assert transition.name in (employers if transition.by is Actor.EMPLOYER else owners)


@pytest.mark.parametrize(
    "transition", [t for t in TRANSITIONS.values() if t.mail], ids=lambda t: t.name
)
def test_every_transitions_email_has_its_schema_templates_and_subject(transition):
    assert transition.mail is not None
    for extension in ("txt", "html"):
        assert (MAIL_TEMPLATES / f"{transition.mail.value}.{extension}").is_file()
    facts = {"by": "Boss", "note": None}
    if not transition.own_door:  # the executor writes who acted and the note
        facts_of(transition.mail).model_validate(facts)
    else:
        facts = {"by": "Boss", "reference": "SEPA-1", "payment_id": 1}
    ticket = MailTicket(
        id=7,
        description="Taxi",
        spent_on=date(2026, 1, 2),
        amount=Decimal("12.50"),
        currency="USD",
        company_amount=Decimal("12.50"),
    )
    payload = PAYLOADS[transition.mail].model_validate(
        {"tickets": [ticket.model_dump()], "company_currency": "USD", **facts}
    )
    subject = messages._subject(transition.mail, payload)
    assert "ticket #7" in subject
