"""What each outbox email says, declared once: the schema its writers' JSON is generated
from (`jsonb_of` builds PostgreSQL's `jsonb_build_object` from a model's fields) and
the one `mail.messages` validates it with when the email is read.

The JSON keeps the form the outbox has always held, so rows queued before a deploy
still read: amounts as text ("12.50", exact), dates and times in ISO 8601.
"""

import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import ColumnElement, ColumnExpressionArgument, Text, cast, func

from contoso.models import MailKind, Role


class _Payload(BaseModel):
    # A key the schema does not know means writer and reader disagree: refused.
    model_config = ConfigDict(extra="forbid", frozen=True)


class MailTicket(_Payload):
    """A ticket as an email lists it, as it was when the change happened."""

    id: int
    description: str
    spent_on: date
    amount: Decimal
    currency: str
    # In the company's currency (the same as `amount` when filed in it).
    company_amount: Decimal


class Facts(_Payload):
    """What the writer of an email about tickets says besides the tickets: who acted."""

    by: str


class DecisionFacts(Facts):
    """An approval, a denial or a request for changes, with the employer's note if any."""

    note: str | None = None


class CommentFacts(Facts):
    """An employer's comment on a ticket: the comment itself."""

    note: str


class PaymentFacts(Facts):
    """A payment of the tickets: its reference, and the payment's id."""

    reference: str
    # Written as text before this schema existed; read either way.
    payment_id: int


class TicketsPayload(_Payload):
    """What PostgreSQL gathers for an email about one owner's tickets."""

    tickets: list[MailTicket] = Field(min_length=1)
    company_currency: str

    def facts(self) -> dict[str, Any]:
        """The writer's facts (`by`, `note`, `reference`...), by the names the
        templates use."""
        return self.model_dump(exclude=set(TicketsPayload.model_fields))


class DecisionPayload(TicketsPayload, DecisionFacts):
    pass


class CommentPayload(TicketsPayload, CommentFacts):
    pass


class PaymentPayload(TicketsPayload, PaymentFacts):
    pass


class DigestPayload(_Payload):
    """The employers' digest of the tickets waiting for a decision."""

    count: int
    total: Decimal
    company_currency: str
    oldest_filed_at: datetime
    oldest_spent_on: date


class InvitationPayload(_Payload):
    """An invitation to register: who invited them, as what, until when. Not the code:
    the nonce the sender derives it from with SECRET_KEY (`auth.invitation_codes`)."""

    nonce: str
    role: Role
    invited_by: str
    expires_at: datetime


class PasswordResetPayload(_Payload):
    """A link to set a new password, for the user who asked: whom it greets and until
    when it works. Not the token: the nonce the sender derives it from with SECRET_KEY
    (`auth.reset_tokens`)."""

    nonce: str
    username: str
    expires_at: datetime


TicketsEmail: TypeAlias = DecisionPayload | CommentPayload | PaymentPayload
Payload: TypeAlias = TicketsEmail | DigestPayload | InvitationPayload | PasswordResetPayload

# Each kind's schema: every kind has one (checked below). A kind not named here is a
# transition's email (`tickets.workflow`), which says by default what the executor
# writes: who acted, and their note.
_TRANSITIONS_EMAIL: type[Payload] = DecisionPayload
PAYLOADS: dict[MailKind, type[Payload]] = dict.fromkeys(MailKind, _TRANSITIONS_EMAIL) | {
    MailKind.TICKETS_PAID: PaymentPayload,
    MailKind.TICKET_COMMENTED: CommentPayload,
    MailKind.DIGEST: DigestPayload,
    MailKind.INVITATION: InvitationPayload,
    MailKind.PASSWORD_RESET: PasswordResetPayload,
}


def facts_of(kind: MailKind) -> type[Facts]:
    """The facts a writer of a `kind` email gives (the rest PostgreSQL gathers)."""
    for base in PAYLOADS[kind].__bases__:
        if issubclass(base, Facts):
            return base
    raise ValueError(f"a {kind.value} email is not about an owner's tickets")


class UnreadablePayload(Exception):
    """An outbox row whose payload its kind's schema refuses: it can never be sent."""

    def __init__(self, kind: MailKind, error: ValidationError) -> None:
        problems = "; ".join(
            f"{'.'.join(map(str, problem['loc'])) or 'payload'}: {problem['msg']}"
            for problem in error.errors(include_url=False)
        )
        super().__init__(f"the payload is not a {kind.value} email's ({problems})")


def read(kind: MailKind, payload: Mapping[str, Any]) -> Payload:
    """`payload` validated as a `kind` email's; UnreadablePayload if it is not one."""
    try:
        return PAYLOADS[kind].model_validate(payload)
    except ValidationError as error:
        raise UnreadablePayload(kind, error) from None


def jsonb_of(
    model: type[BaseModel], sources: Mapping[str, ColumnExpressionArgument[Any]]
) -> ColumnElement[Any]:
    """PostgreSQL's `jsonb_build_object` of `model`: each field from its SQL expression
    in `sources`, in the JSON form `model` reads back (a Decimal as text, exact).
    `sources` must name exactly the model's fields: a field added without one, or a
    source left for a field that is gone, is a TypeError where the statement is
    declared."""
    fields = model.model_fields
    missing, unknown = set(fields) - set(sources), set(sources) - set(fields)
    if missing or unknown:
        raise TypeError(
            f"{model.__name__} built by PostgreSQL: no source for {sorted(missing)},"
            f" sources for no field {sorted(unknown)}"
        )
    pairs: list[Any] = []
    for name, field in fields.items():
        source = sources[name]
        pairs += [name, cast(source, Text) if _is_decimal(field.annotation) else source]
    return func.jsonb_build_object(*pairs)


def _is_decimal(annotation: Any) -> bool:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return any(_is_decimal(member) for member in typing.get_args(annotation))
    return annotation is Decimal


def _check_declarations() -> None:
    if set(PAYLOADS) != set(MailKind):
        raise TypeError(f"no payload schema for {sorted(set(MailKind) - set(PAYLOADS))}")
    gathered = set(TicketsPayload.model_fields)
    for kind, model in PAYLOADS.items():
        if issubclass(model, TicketsPayload) and gathered & set(facts_of(kind).model_fields):
            raise TypeError(f"{model.__name__}: a fact shadows what PostgreSQL gathers")


_check_declarations()
