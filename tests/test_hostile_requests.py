"""The generated server answers hostile requests with declared statuses and declared bodies."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import httpx
import pytest

AUTH = {"Authorization": "Bearer kitchen-token"}
ERROR_KEYS = {"message", "code"}  # the kitchen-sink contract's declared error body


@pytest.fixture(scope="module")
def url(kitchen_url: str) -> str:
    return kitchen_url


def raw_request(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes no well-behaved client would send; parse the status, headers and body."""
    parts = urlsplit(url)
    with socket.create_connection(
        (parts.hostname or "127.0.0.1", parts.port or 80), timeout=10
    ) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def _post_items(url: str, body: bytes, extra: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    host = urlsplit(url).netloc.encode()
    request = (
        b"POST /items HTTP/1.1\r\nHost: " + host + b"\r\nAuthorization: Bearer kitchen-token\r\n"
        b"Content-Type: application/json\r\nConnection: close\r\n"
        + extra
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    return raw_request(url, request)


def test_invalid_utf8_in_a_json_body_is_a_declared_400(url: str) -> None:
    status, headers, body = _post_items(url, b'{"name": "\xff\xfe", "quantity": 1}')
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"message": "body: malformed JSON", "code": "MALFORMED_JSON"}


def test_invalid_utf8_in_a_form_body_is_a_declared_4xx(url: str) -> None:
    response = httpx.post(
        url + "/notes",
        content=b"text=\xff\xfe",
        headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 422  # the notes operation declares 422 only
    assert set(response.json()) <= ERROR_KEYS


def test_a_lying_content_length_is_not_trusted(url: str) -> None:
    status, _, body = _post_items(url, b"{}", extra=b"")
    assert status == 422 and set(json.loads(body)) <= ERROR_KEYS
    host = urlsplit(url).netloc.encode()
    oversized = (
        b"POST /items HTTP/1.1\r\nHost: " + host + b"\r\nAuthorization: Bearer kitchen-token\r\n"
        b"Content-Type: application/json\r\nContent-Length: 99999999999\r\n"
        b"Connection: close\r\n\r\n{}"
    )
    status, headers, body = raw_request(url, oversized)
    assert status == 400 and json.loads(body)["code"] == "TOO_LARGE"


def test_unexpected_content_type_is_a_declared_4xx(url: str) -> None:
    response = httpx.post(
        url + "/items", content=b"<xml/>", headers={**AUTH, "Content-Type": "text/xml"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize(
    "authorization",
    [
        b"Bearer kitchen\ttoken",
        b"Bearer \xc3\xa9t\xc3\xa9",
        b"Bearer " + b"A" * 8000,
        b"Bearer  kitchen-token ",
    ],
)
def test_hostile_credentials_get_the_declared_401(url: str, authorization: bytes) -> None:
    host = urlsplit(url).netloc.encode()
    request = (
        b"GET /items HTTP/1.1\r\nHost: "
        + host
        + b"\r\nAuthorization: "
        + authorization
        + b"\r\nConnection: close\r\n\r\n"
    )
    status, headers, body = raw_request(url, request)
    if authorization == b"Bearer  kitchen-token ":
        assert status == 200  # surrounding white space is not part of the token
        return
    assert status == 401
    assert set(json.loads(body)) <= ERROR_KEYS
    assert headers["www-authenticate"] == "Bearer"


def test_crlf_in_parameters_never_reaches_response_headers(url: str) -> None:
    response = httpx.get(
        url + "/items/%0d%0aSet-Cookie:%20evil=1",
        headers=AUTH,
    )
    assert response.status_code == 405  # GET is not declared on /items/{item-id}
    assert "set-cookie" not in response.headers
    response = httpx.get(url + "/items", params={"limit": "1\r\nSet-Cookie: evil=1"}, headers=AUTH)
    assert response.status_code == 422  # within the declared 4XX, with the declared body
    assert "set-cookie" not in response.headers
    assert set(response.json()) <= ERROR_KEYS


def test_bytes_http_forbids_are_refused_before_the_app(url: str) -> None:
    """A NUL in a header never reaches the app: uvicorn's HTTP parser refuses it with 400."""
    host = urlsplit(url).netloc.encode()
    request = b"GET /items HTTP/1.1\r\nHost: " + host + b"\r\nX-Trace-Id: a\x00b\r\n\r\n"
    status, _, body = raw_request(url, request)
    assert status == 400 and b"Traceback" not in body


def test_500_bodies_never_carry_exception_text(url: str) -> None:
    response = httpx.get(url + "/items", headers={**AUTH, "X-Trace-Id": "outside-range"})
    assert response.status_code == 500
    assert response.json() == {"message": "Internal server error", "code": "INTERNAL_SERVER_ERROR"}
