"""Odd input in every field, against `contoso serve`: what schemathesis does not send.

Schemathesis generates JSON that fits or breaks the schema, but always JSON a strict
parser accepts. Python's parser also reads NaN, Infinity, numbers too large to hold and
lone surrogate escapes; forms carry NUL, and a multipart form names its own charset
(`unicode_escape` decodes to any text, surrogates included). People also type (or paste)
text-direction controls and internationalised addresses (`ü@exämple.com`). Hypothesis
puts these into every string and number field of every JSON operation (found in
`/openapi.json`), every field of the page forms and the console login, and the console's
list queries.
Held: no 5xx and no traceback; a number that is not finite or a lone surrogate in JSON is
a 4xx, and so is a form holding NUL or a surrogate; a text-direction control is never
stored (no answer that accepts it shows it back).
"""

import json
import os
import re
import uuid
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.forms import csrf_from
from tests.support.servers import contoso_env, serving

EXAMPLES = int(os.environ.get("ODD_INPUT_EXAMPLES", "12"))
PASSWORD = "odd-input-password"
TODAY = date.today().isoformat()

# Raw JSON numbers Python's json module reads; all but the last decode to NaN or infinity.
NOT_FINITE = ["NaN", "Infinity", "-Infinity", "1e309", "-1e309", "1" + "0" * 400 + ".0"]
TOO_LONG = "9" * 5000  # an integer over Python's 4,300-digit limit for reading one
SURROGATES = ["\udfff", "\ud800", "\udc00\udc00"]
NUL = "\x00"
# Bidi embeddings, overrides and isolates, and the line and paragraph separators.
DIRECTION_CONTROLS = [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]
SEPARATORS = ["\u2028", "\u2029"]
DIRECTION_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Internationalised addresses: a UTF-8 local part, an IDN domain, its punycode form.
ADDRESSES = [
    "\u00fc@ex\u00e4mple.com",
    "mei@ex\u00e4mple.com",
    "\u00fc@xn--exmple-cua.com",
    "\u00dc@EX\u00c4MPLE.com",
]
UNREADABLE_FORM = "This form could not be read"
_NUMBER_MARK = "__odd_number__"


def _examples(count: int):
    return settings(
        max_examples=count,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory, database_url):
    with serving(contoso_env(tmp_path_factory.mktemp("odd"), database_url)) as base:
        yield base


@dataclass
class People:
    """An employee with a ticket and an employer, with tokens and logged-in browsers."""

    base: str
    employee_id: int
    ticket_id: int
    tokens: dict[str, str]
    employee_pages: httpx.Client
    console: httpx.Client

    def headers(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}

    def fill(self, template: str) -> str:
        return template.replace("{ticket_id}", str(self.ticket_id)).replace(
            "{employee_id}", str(self.employee_id)
        )


def _register(base: str, role: str) -> tuple[str, dict]:
    email = f"odd-{uuid.uuid4().hex[:12]}@example.com"
    body = {"email": email, "password": PASSWORD, "username": "Odd", "role": role}
    response = httpx.post(f"{base}/api/auth/register", json=body)
    assert response.status_code == 201, response.text
    return email, response.json()


def _browser(base: str, url: str, fields: dict[str, str]) -> httpx.Client:
    browser = httpx.Client(base_url=base)
    page = browser.get(url)
    response = browser.post(url, data=fields | {"csrf_token": csrf_from(page)})
    assert response.status_code in (302, 303), response.text
    return browser


@pytest.fixture
def people(live, app):
    employee_email, employee = _register(live, "employee")
    employer_email, employer = _register(live, "employer")
    token = employee["access_token"]
    ticket = httpx.post(
        f"{live}/api/tickets",
        json={"spent_on": TODAY, "amount": "5.00", "description": "odd input target"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    pages = _browser(live, "/", {"email": employee_email, "password": PASSWORD})
    console = _browser(live, "/admin/login", {"username": employer_email, "password": PASSWORD})
    yield People(
        live,
        employee["user"]["id"],
        ticket["id"],
        {"employee": token, "employer": employer["access_token"]},
        pages,
        console,
    )
    pages.close()
    console.close()


# --- JSON operations, from the OpenAPI schema ---------------------------------------


@dataclass(frozen=True)
class JsonField:
    method: str
    path: str
    name: str
    is_list: bool
    baseline: dict


def _resolve(document: dict, schema: dict) -> dict:
    """The object schema behind `$ref` and `anyOf: [{$ref}, {type: null}]`."""
    if "$ref" in schema:
        return _resolve(document, document["components"]["schemas"][schema["$ref"].split("/")[-1]])
    for branch in schema.get("anyOf", []):
        if "$ref" in branch or branch.get("type") == "object":
            return _resolve(document, branch)
    return schema


def _is_list(schema: dict) -> bool:
    return schema.get("type") == "array" or any(_is_list(b) for b in schema.get("anyOf", []))


def json_fields(document: dict) -> list[JsonField]:
    """Every property of every JSON request body, with the schema's example as the rest
    of the body (so the odd value is the only thing wrong with it)."""
    fields = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            schema = _resolve(document, content["application/json"]["schema"])
            baseline = (schema.get("examples") or [{}])[0]
            for name, prop in schema.get("properties", {}).items():
                fields.append(JsonField(method, path, name, _is_list(prop), baseline))
    return fields


@st.composite
def odd_values(
    draw,
    baseline: object = None,
    kinds: tuple[str, ...] = ("number", "too long", "surrogate", "nul", "bidi", "address"),
) -> tuple[str, object]:
    """(kind, value): a number that is not finite or too long to read, an
    internationalised address, or text with NUL, a lone surrogate or a text-direction
    control, spliced into the example value when there is one."""
    kind = draw(st.sampled_from(kinds))
    if kind == "number":
        return kind, draw(st.sampled_from(NOT_FINITE))
    if kind == "too long":
        return kind, TOO_LONG
    if kind == "address":
        return kind, draw(st.sampled_from(ADDRESSES))
    odd = {
        "nul": st.just(NUL),
        "surrogate": st.sampled_from(SURROGATES),
        "bidi": st.sampled_from(DIRECTION_CONTROLS + SEPARATORS),
    }[kind]
    odd = draw(odd)
    around = baseline if isinstance(baseline, str) and draw(st.booleans()) else draw(st.text())
    cut = draw(st.integers(0, len(around)))
    return kind, around[:cut] + odd + around[cut:]


def _json_body(baseline: dict, field: JsonField, kind: str, value: object, as_list: bool) -> str:
    raw = kind in ("number", "too long")
    slot = _NUMBER_MARK if raw else value
    body = baseline | {field.name: [slot] if as_list else slot}
    text = json.dumps(body, ensure_ascii=True)  # "\udfff" is sent as that escape
    return text.replace(f'"{_NUMBER_MARK}"', str(value)) if raw else text


def test_odd_values_in_every_json_field_are_refused_without_a_5xx(live, people, figures):
    document = httpx.get(f"{live}/openapi.json").json()
    fields = json_fields(document)
    operations = {(field.method, field.path) for field in fields}
    assert len(operations) >= 8
    group = "odd input: every JSON field"
    for field in fields:
        _send_odd_json(people, field, lambda **counts: figures.add(group, **counts))
    figures.add(group, operations=len(operations), fields=len(fields))


def _send_odd_json(people: People, field: JsonField, count) -> None:
    @given(
        odd=odd_values(field.baseline.get(field.name)),
        as_list=st.booleans() if field.is_list else st.just(False),
        who=st.sampled_from([None, "employee", "employer"]),
    )
    @_examples(EXAMPLES)
    def send(odd, as_list, who) -> None:
        kind, value = odd
        response = httpx.request(
            field.method,
            people.base + people.fill(field.path),
            content=_json_body(field.baseline, field, kind, value, as_list),
            headers={"Content-Type": "application/json"} | people.headers(who),
        )
        assert response.status_code < 500, (field, odd, response.text)
        if kind in ("number", "too long", "surrogate"):
            assert response.status_code == 422, (field, odd, response.text)
        # NUL, separators and addresses are text; whether each may be stored is the
        # field's rule. A direction control never is.
        if kind == "bidi" and response.status_code < 300:
            assert not DIRECTION_CONTROL.search(response.text), (field, odd, response.text)
        assert "Value error, " not in response.text
        count(requests=1, **{f"status {response.status_code}": 1})

    send()


# --- Page forms and the console login -----------------------------------------------


@dataclass(frozen=True)
class Form:
    url: str
    browser: str  # a key of TOKEN_PAGES
    baseline: dict


# Where each browser finds a form, and so its session's CSRF token.
TOKEN_PAGES = {
    "anonymous": "/",
    "employee pages": "/tickets",
    "console": "/admin/tickets/action/deny?pks={ticket_id}",
}


FORMS = [
    Form("/", "anonymous", {"email": "new-person@example.com", "password": PASSWORD}),
    Form("/admin/login", "anonymous", {"username": "nobody@example.com", "password": PASSWORD}),
    Form(
        "/tickets",
        "employee pages",
        {"spent_on": TODAY, "amount": "5.00", "description": "Taxi", "links": ""},
    ),
    Form(
        "/tickets/{ticket_id}/edit",
        "employee pages",
        {"spent_on": TODAY, "amount": "6.00", "description": "Taxi", "links": ""},
    ),
    Form("/admin/tickets/action/deny", "console", {"pks": "{ticket_id}", "note": "No receipt"}),
]


def _encode_form(fields: dict[str, str], encoding: str) -> tuple[bytes, str]:
    """The form as a browser or a client sends it: urlencoded (UTF-8, percent-escaped),
    multipart in UTF-8, or multipart declaring `unicode_escape`, which turns the escape
    "\\udfff" into a lone surrogate on the server."""
    if encoding == "urlencoded":
        body = "&".join(
            f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in fields.items()
        )
        return body.encode(), "application/x-www-form-urlencoded"
    codec = (
        ("unicode_escape", "strict") if encoding == "unicode_escape" else ("utf-8", "surrogatepass")
    )
    parts = b"".join(
        f'--oddboundary\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value.encode(*codec)
        + b"\r\n"
        for name, value in fields.items()
    )
    return parts + b"--oddboundary--\r\n", (
        f"multipart/form-data; boundary=oddboundary; charset={codec[0]}"
    )


def test_odd_text_in_every_form_field_is_refused_without_a_5xx(people, figures):
    group = "odd input: page and console forms"
    anonymous = httpx.Client(base_url=people.base)
    browsers = {
        "anonymous": anonymous,
        "employee pages": people.employee_pages,
        "console": people.console,
    }
    tokens = {
        who: csrf_from(browser.get(people.fill(TOKEN_PAGES[who])))
        for who, browser in browsers.items()
    }
    for form in FORMS:
        for name in form.baseline:
            _post_odd_form(
                people,
                form,
                name,
                browsers[form.browser],
                tokens[form.browser],
                lambda **counts: figures.add(group, **counts),
            )
    anonymous.close()
    figures.add(group, forms=len(FORMS), fields=sum(len(form.baseline) for form in FORMS))


def _post_odd_form(people: People, form: Form, name: str, browser, token: str, count) -> None:
    @given(
        odd=odd_values(form.baseline[name], kinds=("nul", "surrogate", "bidi", "address")),
        encoding=st.sampled_from(["urlencoded", "multipart", "unicode_escape"]),
    )
    @_examples(EXAMPLES)
    def post(odd, encoding) -> None:
        kind, value = odd
        fields = {k: people.fill(v) for k, v in form.baseline.items()}
        fields |= {name: value, "csrf_token": token}
        body, content_type = _encode_form(fields, encoding)
        response = browser.post(
            people.fill(form.url), content=body, headers={"Content-Type": content_type}
        )
        assert response.status_code < 500, (form.url, name, odd, encoding, response.text)
        # NUL survives every encoding; a surrogate only the one that makes it.
        if kind == "nul" or (kind == "surrogate" and encoding == "unicode_escape"):
            assert response.status_code == 400, (form.url, name, odd, encoding)
            assert UNREADABLE_FORM in response.text
        count(requests=1, **{f"status {response.status_code}": 1})

    post()


# --- The console's list queries -----------------------------------------------------


def test_odd_console_list_queries_are_a_4xx_or_a_page(people, figures):
    group = "odd input: console list queries"
    lists = {"tickets": "status", "employees": "suspended", "audit-log": "kind"}

    @given(
        view=st.sampled_from(sorted(lists)),
        search=st.one_of(
            st.none(),
            st.text(max_size=12),
            st.sampled_from([":foo", "%", "\\", *ADDRESSES, *DIRECTION_CONTROLS]),
        ),
        filter_value=st.one_of(st.none(), st.text(max_size=12), st.just("bogus")),
        page=st.one_of(st.none(), st.sampled_from(["0", "-1", "NaN", "1e309", "99999999999"])),
    )
    @_examples(EXAMPLES * 10)
    def browse(view, search, filter_value, page) -> None:
        params = {"search": search, lists[view]: filter_value, "page": page}
        query = "&".join(
            f"{k}={quote(v.encode('utf-8', 'surrogatepass'))}"
            for k, v in params.items()
            if v is not None
        )
        response = people.console.get(f"/admin/{view}/list?{query}", follow_redirects=True)
        assert response.status_code < 500, (params, response.text[-2000:])
        if search and re.search("[\x00-\x1f\x7f-\x9f]", search):
            assert response.status_code == 400
        figures.add(group, requests=1, **{f"status {response.status_code}": 1})

    browse()
