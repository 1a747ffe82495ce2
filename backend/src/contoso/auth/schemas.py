from datetime import datetime
from typing import Annotated

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
)

from contoso.models import Role
from contoso.validation import StrictInput, TextRules

PASSWORD_MIN = 8
# bcrypt_sha256 has no length limit; this only bounds the work a request can ask for.
PASSWORD_MAX = 1024


def normalise_email(email: str) -> str:
    """The one form an address is stored and looked up in: email-validator's normalised
    form (the domain in Unicode, so `ü@xn--exmple-cua.com` is `ü@exämple.com`), in
    lower case. Text that is no address is only trimmed and lowered: it finds nobody."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return email.strip().lower()


def _password_length(password: str) -> str:
    if len(password) < PASSWORD_MIN:
        raise ValueError(f"Password must be at least {PASSWORD_MIN} characters long")
    if len(password) > PASSWORD_MAX:
        raise ValueError(f"Password must be at most {PASSWORD_MAX} characters long")
    return password


def _any_case(word: str) -> str:
    return "".join(f"[{letter.upper()}{letter}]" for letter in word)


_ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\u0080-\\uffff-]+"
_LABEL = (
    # Letters, digits and inner hyphens; "--" in 3rd and 4th place only in "xn--" labels.
    "(?!(?![Xx][Nn])[A-Za-z0-9]{2}--)[A-Za-z0-9\\u0080-\\uffff]"
    "(?:[A-Za-z0-9\\u0080-\\uffff-]{0,61}[A-Za-z0-9\\u0080-\\uffff])?"
)
_SPECIAL_USE = "|".join(_any_case(name) for name in SPECIAL_USE_DOMAIN_NAMES)
# What email-validator accepts, as far as a pattern can say it: a dot-atom of at most
# 64 characters before the @, then a domain with a dot whose last label ends with a
# letter and is not a special-use name.
EMAIL_PATTERN = (
    f"^(?=[^@]{{1,64}}@){_ATOM}(?:\\.{_ATOM})*@(?:{_LABEL}\\.)+"
    f"(?!(?:{_SPECIAL_USE})$)(?=[^.]*[A-Za-z\\u0080-\\uffff]$){_LABEL}$"
)
EMAIL_RULES = (
    "An email address as email-validator accepts it: no quoted local part, no IP "
    "address for a domain, a domain with a dot whose last label ends with a letter, not "
    "under a special-use name ("
    + ", ".join(f".{name}" for name in SPECIAL_USE_DOMAIN_NAMES)
    + "), at most 64 characters before the @ and 254 in all; compared in lower case."
)
Email = Annotated[
    EmailStr,
    Field(max_length=254, description=EMAIL_RULES, json_schema_extra={"pattern": EMAIL_PATTERN}),
    AfterValidator(normalise_email),
]
NewPassword = Annotated[
    str,
    # Documented for the schema, checked by _password_length with a readable message.
    Field(json_schema_extra={"minLength": PASSWORD_MIN, "maxLength": PASSWORD_MAX}),
    AfterValidator(_password_length),
]
Username = Annotated[str, TextRules(64, multiline=False, what="The name")]


# Typed by people from an email or a chat: case, spaces and dashes do not matter.
INVITATION_CODE_MAX = 64
InvitationCode = Annotated[str, Field(max_length=INVITATION_CODE_MAX)]


class RegisterRequest(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "mei@example.com",
                    "password": "a long passphrase",
                    "username": "Mei",
                    "role": "employee",
                }
            ]
        }
    )

    email: Email
    password: NewPassword
    username: Username
    role: Role = Role.EMPLOYEE
    # An invitation's code: needed under EMPLOYER_SIGNUP or EMPLOYEE_SIGNUP "invite"
    # (and outside the domains under "domain"); checked whenever given. The
    # invitation's role applies: `role`, if given too, must be the same.
    invitation_code: InvitationCode | None = None


class LoginRequest(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "mei@example.com", "password": "a long passphrase"}]
        }
    )

    email: Email
    # Not length-checked: a wrong password of any size is just wrong.
    password: Annotated[str, Field(max_length=PASSWORD_MAX)]


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    username: str
    role: Role
    suspended: bool
    created_at: datetime


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)


class LoginResponse(Token):
    """A new token and whose it is."""

    user: UserRead
