"""Each email's payload has one schema (`mail.payloads`): the JSON PostgreSQL builds is
generated from it and parses back equal to the model Python builds from the same
tickets; rows queued before the schema existed still read."""

import asyncio
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from contoso.config import Settings
from contoso.database import create_database
from contoso.mail.outbox import tell_owners
from contoso.mail.payloads import (
    PAYLOADS,
    CommentPayload,
    DecisionPayload,
    DigestPayload,
    MailTicket,
    PaymentPayload,
    TicketsPayload,
    jsonb_of,
    read,
)
from contoso.models import Category, Company, MailKind, OutboxEmail, Role, Ticket, User
from contoso.validation import EARLIEST_DATE

# The emails about an owner's tickets (not the digest, not invitations).
TICKET_KINDS = [kind for kind, model in PAYLOADS.items() if issubclass(model, TicketsPayload)]

# Text PostgreSQL stores: any Unicode but NUL (and lone surrogates, which no encoding has).
_TEXT = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
texts = st.text(_TEXT, min_size=1, max_size=40)


def _amounts() -> st.SearchStrategy[Decimal]:
    """Positive amounts with 0 to 3 decimals, as currencies have them (JPY, USD, KWD)."""
    return st.integers(0, 3).flatmap(
        lambda places: st.decimals(
            min_value=Decimal(1).scaleb(-places),
            max_value=Decimal("999999999999"),
            places=places,
            allow_nan=False,
            allow_infinity=False,
        )
    )


_TICKET_VALUES = st.fixed_dictionaries(
    {
        "description": texts,
        # The dates a ticket may have. (asyncpg would send date.min as -infinity.)
        "spent_on": st.dates(min_value=EARLIEST_DATE, max_value=date.today()),
        "amount": _amounts(),
        "currency": st.from_regex(r"[A-Z]{3}", fullmatch=True),
        "company_amount": _amounts(),
    }
)
_FACTS: dict[type[BaseModel], st.SearchStrategy[dict[str, Any]]] = {
    DecisionPayload: st.fixed_dictionaries({"by": texts, "note": st.none() | texts}),
    CommentPayload: st.fixed_dictionaries({"by": texts, "note": texts}),
    PaymentPayload: st.fixed_dictionaries(
        {"by": texts, "reference": texts, "payment_id": st.integers(1, 2**63 - 1)}
    ),
}


async def _stored_payload(
    connection: AsyncConnection, kind: MailKind, tickets: list[dict[str, Any]], facts: dict
) -> tuple[dict[str, Any], list[int], str]:
    """The payload `tell_owners` stores for an owner of `tickets`, their ids, and the
    company's currency."""
    owner = await connection.scalar(
        insert(User)
        .values(email="mei@example.com", username="Mei", password_hash="-", role=Role.EMPLOYEE)
        .returning(User.id)
    )
    category = await connection.scalar(select(Category.id).where(Category.is_default))
    rows = [
        values | {"owner_id": owner, "category_id": category, "exchange_rate": Decimal(1)}
        for values in tickets
    ]
    ids = list((await connection.scalars(insert(Ticket).values(rows).returning(Ticket.id))).all())
    await connection.execute(tell_owners(kind, ids, facts))
    stored = await connection.scalar(select(OutboxEmail.payload))
    company = await connection.scalar(select(Company.currency))
    assert stored is not None and company is not None
    return stored, ids, company


def test_the_payload_postgresql_builds_reads_equal_to_the_one_python_builds(
    settings: Settings,
):
    database = create_database(settings)

    async def check(kind: MailKind, tickets: list[dict[str, Any]], facts: dict) -> None:
        # Each example in a transaction rolled back: nothing stays for the next.
        async with database.engine.connect() as connection, connection.begin() as transaction:
            stored, ids, company = await _stored_payload(connection, kind, tickets, facts)
            await transaction.rollback()
        listed = [MailTicket(id=id, **values) for id, values in zip(ids, tickets, strict=True)]
        expected = PAYLOADS[kind](tickets=listed, company_currency=company, **facts)

        assert read(kind, stored) == expected
        # The very JSON pydantic writes too: amounts exact, as text, with their decimals.
        assert stored == expected.model_dump(mode="json")

    @given(data=st.data())
    @examples(max_examples=60, deadline=None, database=None)
    def property(data: st.DataObject) -> None:
        kind = data.draw(st.sampled_from(TICKET_KINDS))
        tickets = data.draw(st.lists(_TICKET_VALUES, min_size=1, max_size=4))
        facts = data.draw(_FACTS[PAYLOADS[kind]])
        runner.run(check(kind, tickets, facts))

    # A loop of its own, not made the thread's: the suite's async tests keep theirs.
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        try:
            property()
        finally:
            runner.run(database.engine.dispose())


# Rows as the outbox held them before the schema: every fact written as text.
_OLD_TICKET = {
    "id": 3,
    "description": "Hôtel à Lyon",
    "spent_on": "2026-11-02",
    "amount": "1500",
    "currency": "JPY",
    "company_amount": "9.60",
}
# The emails the outbox held before the schema existed, as written then.
_OLD_ROWS = {
    MailKind.TICKETS_APPROVED: {"by": "Grace", "note": None},
    MailKind.TICKETS_DENIED: {"by": "Grace", "note": "Not a business trip"},
    MailKind.CHANGES_REQUESTED: {"by": "Grace", "note": "Itemised receipt, please"},
    MailKind.TICKETS_PAID: {"by": "Grace", "reference": "PAY-2026-11", "payment_id": "42"},
    MailKind.TICKET_COMMENTED: {"by": "Grace", "note": "Which client was this for?"},
}


def test_every_old_kind_is_still_a_ticket_kind():
    assert set(_OLD_ROWS) <= set(TICKET_KINDS)


@pytest.mark.parametrize("kind", list(_OLD_ROWS))
def test_an_email_queued_before_the_schema_still_reads(kind: MailKind):
    row = {"tickets": [_OLD_TICKET], "company_currency": "USD"} | _OLD_ROWS[kind]

    payload = read(kind, row)

    assert not isinstance(payload, DigestPayload)
    assert payload.tickets == [
        MailTicket(
            id=3,
            description="Hôtel à Lyon",
            spent_on=date(2026, 11, 2),
            amount=Decimal(1500),
            currency="JPY",
            company_amount=Decimal("9.60"),
        )
    ]
    assert payload.facts() == _OLD_ROWS[kind] | (
        {"payment_id": 42} if kind is MailKind.TICKETS_PAID else {}
    )


def test_a_digest_queued_before_the_schema_still_reads():
    row = {
        "count": 2,
        "total": "98765.40",
        "company_currency": "EUR",
        "oldest_filed_at": "2026-11-01T23:30:00.123456+00:00",
        "oldest_spent_on": "2026-10-28",
    }

    digest = read(MailKind.DIGEST, row)

    assert isinstance(digest, DigestPayload)
    assert (digest.count, digest.total, digest.oldest_spent_on) == (
        2,
        Decimal("98765.40"),
        date(2026, 10, 28),
    )
    assert digest.oldest_filed_at.isoformat() == "2026-11-01T23:30:00.123456+00:00"


def test_a_field_postgresql_has_no_source_for_is_refused_where_it_is_declared():
    class Extended(MailTicket):
        category: str

    with pytest.raises(TypeError, match=r"no source for \['category'\]"):
        jsonb_of(Extended, {name: Ticket.id for name in MailTicket.model_fields})


def test_a_payment_email_without_its_reference_is_refused_before_it_is_queued():
    with pytest.raises(ValidationError, match="reference"):
        tell_owners(MailKind.TICKETS_PAID, [1], {"by": "Grace", "payment_id": 42})
