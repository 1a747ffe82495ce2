"""Form posts that cannot be read (garbage, too many fields, text that is not Unicode)
get a 400 page that says so, on the pages and the console login, whichever reads them:
the CSRF check (token in the form) or the page itself (token in the header)."""

import pytest

from tests.support.forms import csrf_from

FORMS = ["/", "/admin/login"]
COULD_NOT_READ = "This form could not be read"


def _multipart(fields: dict[str, bytes], charset: str = "utf-8") -> tuple[bytes, str]:
    boundary = "formboundary"
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value
        + b"\r\n"
        for name, value in fields.items()
    )
    return body + f"--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}; charset={charset}"
    )


async def _token(client, url: str) -> str:
    return csrf_from(await client.get(url))


def _garbage(token: str) -> list[tuple[bytes, str]]:
    """Bodies no form parser can read, each with the content type it claims."""
    fields, content_type = _multipart({"csrf_token": token.encode(), "email": b"a@example.com"})
    return [
        (b"garbage", "multipart/form-data"),  # no boundary
        (b"--formboundary\r\nnot a header line\r\n\r\nzzz", content_type),
        (b"--formboundary\r\nContent-Disposition: form-data\r\n\r\nv\r\n", content_type),
        (fields.replace(b"Content-Disposition", b"Content-Disposition\x00"), content_type),
    ]


@pytest.mark.parametrize("url", FORMS)
@pytest.mark.parametrize("case", range(4))
@pytest.mark.parametrize("token_in", ["form", "header"])
async def test_a_garbage_multipart_form_is_a_400_page(client, url, case, token_in):
    token = await _token(client, url)
    body, content_type = _garbage(token)[case]
    headers = {"Content-Type": content_type}
    if token_in == "header":
        headers["X-CSRF-Token"] = token

    response = await client.post(url, content=body, headers=headers)

    assert response.status_code == 400
    assert COULD_NOT_READ in response.text


@pytest.mark.parametrize("url", FORMS)
@pytest.mark.parametrize("token_in", ["form", "header"])
@pytest.mark.parametrize("multipart", [True, False])
async def test_a_form_with_more_than_a_thousand_fields_is_a_400_page(
    client, url, token_in, multipart
):
    token = await _token(client, url)
    fields = {f"field{i}": "x" for i in range(1001)} | {"csrf_token": token}
    headers = {"X-CSRF-Token": token} if token_in == "header" else {}
    files = {"attachment": ("a.txt", b"x")} if multipart else None

    response = await client.post(url, data=fields, files=files, headers=headers)

    assert response.status_code == 400
    assert COULD_NOT_READ in response.text


@pytest.mark.parametrize("url", FORMS)
@pytest.mark.parametrize("field", ["email", "username", "password"])
async def test_a_form_field_that_is_not_unicode_is_a_400_page(client, url, field):
    # A multipart form names its own charset; this one decodes "\udfff" to half of a
    # surrogate pair, which cannot be shown again on a page or stored.
    token = await _token(client, url)
    values = {"email": b"mei@example.com", "username": b"mei@example.com", "password": b"pw"}
    values[field] = b"mei\\udfff@example.com"
    body, content_type = _multipart({"csrf_token": token.encode()} | values, "unicode_escape")

    response = await client.post(url, content=body, headers={"Content-Type": content_type})

    assert response.status_code == 400
    assert COULD_NOT_READ in response.text


@pytest.mark.parametrize("url", FORMS)
async def test_a_well_formed_multipart_form_is_read(client, url):
    # Guards the tests above: multipart itself is fine, only unreadable forms are refused.
    token = await _token(client, url)
    body, content_type = _multipart(
        {
            "csrf_token": token.encode(),
            "email": b"nobody@example.com",
            "username": b"nobody@example.com",
            "password": b"wrong password",
        }
    )

    response = await client.post(url, content=body, headers={"Content-Type": content_type})

    assert response.status_code in (200, 401)
    assert COULD_NOT_READ not in response.text
