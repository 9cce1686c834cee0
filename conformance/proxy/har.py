"""`--record FILE.har`: every exchange the proxy forwarded, as HTTP Archive 1.2 (with `harfile`).

Entries are written as they come, so a proxy that is killed still leaves the exchanges before.
Credentials never reach the file: credential headers are replaced (see `judge.safe_headers`) and
the token is redacted from every header, URL and body, in all the forms it travels in.
"""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qsl

import harfile

from ..results import Redactor
from .exchange import Exchange, header_value
from .judge import safe_headers


class HarRecorder:
    def __init__(self, path: Path, token: str | None, carriers: frozenset[str]) -> None:
        self.path = path
        self.redactor = Redactor(token)
        self.token = token
        self.carriers = carriers
        self.lock = threading.Lock()
        self.file = harfile.open(
            str(path), creator=harfile.Creator(name="contract proxy", version=_version())
        )
        self.file.__enter__()

    def record(self, exchange: Exchange) -> None:
        with self.lock:
            self.file.add_entry(
                startedDateTime=datetime.fromtimestamp(exchange.started, UTC),
                time=round(exchange.elapsed * 1000, 3),
                request=self._request(exchange),
                response=self._response(exchange),
                timings=harfile.Timings(send=0, wait=round(exchange.elapsed * 1000, 3), receive=0),
            )

    def _records(self, headers: list[tuple[str, str]]) -> list[harfile.Record]:
        shown = safe_headers(headers, self.carriers, self.token)
        # safe_headers keeps one value per name; repeated headers are kept by walking the list.
        records = []
        for name, value in headers:
            kept = shown.get(name, value) if name.lower() in self.carriers else value
            records.append(harfile.Record(name=name, value=self.redactor.text(kept)))
        return records

    def _request(self, exchange: Exchange) -> harfile.Request:
        body = bytes(exchange.request_body.data)
        content_type = header_value(exchange.request_headers, "content-type") or ""
        post = None
        if body:
            post = harfile.PostData(mimeType=content_type, text=self._text(body))
        return harfile.Request(
            method=exchange.method,
            url=self.redactor.text(exchange.url),
            httpVersion="HTTP/1.1",
            headers=self._records(exchange.request_headers),
            queryString=[
                harfile.Record(name=self.redactor.text(k), value=self.redactor.text(v))
                for k, v in parse_qsl(exchange.query, keep_blank_values=True)
            ],
            postData=post,
            bodySize=exchange.request_body.size,
        )

    def _response(self, exchange: Exchange) -> harfile.Response:
        if exchange.status is None:
            return harfile.Response(
                status=0, statusText=exchange.error or "no response", httpVersion="HTTP/1.1"
            )
        body = exchange.decoded_response()
        if body is None:
            body = b""
        content_type = header_value(exchange.response_headers, "content-type") or ""
        return harfile.Response(
            status=exchange.status,
            statusText="",
            httpVersion="HTTP/1.1",
            headers=self._records(exchange.response_headers),
            content=self._content(body, exchange.response_body.size, content_type),
            bodySize=exchange.response_body.size,
        )

    def _text(self, body: bytes) -> str:
        redacted = self.redactor.data(body)
        try:
            return redacted.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(redacted).decode("ascii")

    def _content(self, body: bytes, size: int, mime_type: str) -> harfile.Content:
        redacted = self.redactor.data(body)
        try:
            return harfile.Content(size=size, mimeType=mime_type, text=redacted.decode("utf-8"))
        except UnicodeDecodeError:
            text = base64.b64encode(redacted).decode("ascii")
            return harfile.Content(size=size, mimeType=mime_type, text=text, encoding="base64")

    def close(self) -> None:
        with self.lock:
            self.file.__exit__(None, None, None)

    def __enter__(self) -> HarRecorder:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _version() -> str:
    try:
        return version("contract-toolkit")
    except PackageNotFoundError:
        return "unknown"
