"""The stream checks: every streaming response the contract declares, read as a stream.

After the engine and the probes, for each (operation, status, sequential media type) with an
item schema (`streams_spec.stream_responses`), the best accepted request the engine sent for that
operation (pinned known-good values) is sent again asking for the stream, and read incrementally
under the stream limits (`stream_reader`):

- `stream_framing` (CT111): the body frames as its media type says (WHATWG SSE rules; one JSON
  value per JSON Lines line / json-seq record).
- `stream_items` (CT112): every item matches the item schema (SSE `data` parsed as JSON and
  validated where the schema says `contentMediaType: application/json`).
- `stream_event_names` (CT113): every SSE event name is one the item schema allows.
- `stream_limits` (CT114): the stream ends by itself within --stream-timeout,
  --stream-max-events and --max-response-bytes.
- `stream_ends_on_link` (CT115, CT116): for each link marked `x-contract-ends-stream`, a new stream
  is opened, the link is followed as soon as an item gives its parameters
  (`$response.body#/pointer` against the first item's JSON that has it), and the stream must end
  within --stream-timeout of that call, its last item the `x-contract-terminal-event`.

The judging is pure (`judge_read`, `judge_link`); `run` does the I/O.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import httpx

from generator.spec.openapi import resolved
from generator.spec.pointers import is_missing, resolve_pointer

from .failures import (
    ContractViolation,
    StreamFramingBroken,
    StreamItemInvalid,
    StreamNotEnded,
    StreamNotEndedByLink,
    StreamWrongTerminalEvent,
    UndeclaredEventName,
)
from .stream_framing import Item, JsonRecord, SseEvent, shown
from .stream_items import ItemJudge
from .stream_reader import StreamLimits, StreamRead, StreamRequest, read_stream
from .streams_spec import EndsStreamLink, StreamResponse, find_operation

if TYPE_CHECKING:
    from .probes import Candidate
    from .schemathesis_api import Case

STREAM_CHECK_NAMES = (
    "stream_framing",
    "stream_items",
    "stream_event_names",
    "stream_limits",
    "stream_ends_on_link",
)
HOW_IT_STOPPED = {
    "events": "sent {max_events} items (--stream-max-events) without ending",
    "timeout": "did not end within {seconds:g} s (--stream-timeout)",
    "bytes": "sent {max_bytes} bytes (--max-response-bytes) without ending",
}


@dataclass(frozen=True, slots=True)
class LinkCall:
    """The request that followed the link, and what answered it."""

    method: str
    url: str
    status: int | None
    error: str | None = None


@dataclass(slots=True)
class StreamOutcome:
    """One stream read (`kind` is `read`, or `link NAME`) and what the checks found in it."""

    kind: str
    stream: StreamResponse
    case: Case[Any]
    request: StreamRequest
    read: StreamRead
    findings: list[tuple[str, ContractViolation]] = field(default_factory=list)
    call: LinkCall | None = None
    notes: list[str] = field(default_factory=list)
    summary: str = ""  # one line for the report's stream table


def plan(
    streams: Sequence[StreamResponse],
    candidates: Mapping[str, Candidate],
    streamed: Mapping[tuple[str, str], Candidate] | None = None,
    unanswered: Mapping[str, Candidate] | None = None,
) -> tuple[list[tuple[StreamResponse, Candidate]], list[str]]:
    """The streams to read, each with the request to base it on: one the engine saw answered
    with the stream's media type, else the operation's best accepted request, else one that got
    no answer in time (a stream that does not end, read again here under the stream limits);
    notes for the others."""
    planned: list[tuple[StreamResponse, Candidate]] = []
    notes: list[str] = []
    for stream in streams:
        candidate = (streamed or {}).get((stream.label, stream.media_type))
        candidate = candidate or candidates.get(stream.label)
        candidate = candidate or (unanswered or {}).get(stream.label)
        if candidate is None:
            notes.append(
                f"{stream.label}: no accepted request to read its {stream.media_type} from"
            )
            continue
        planned.append((stream, candidate))
    return planned, notes


def stream_request(candidate: Candidate, media_type: str) -> StreamRequest:
    """The candidate's request asking for the stream: `Accept: <media type>`, and a body field
    `stream` that says false turned true (AgentOS' way to ask for a stream)."""
    sent = candidate.request
    # A field value has no leading or trailing whitespace (RFC 9110 5.5): a generated
    # `Bearer ` (no token configured) goes as `Bearer`, which httpx, unlike requests, insists on.
    headers = {
        k: v.strip(" \t")
        for k, v in sent.headers.items()
        if k.lower() not in ("accept", "content-length")
    }
    headers["Accept"] = media_type
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    return StreamRequest(
        sent.method, sent.url, headers, _asking_for_stream(sent.body, content_type)
    )


def _asking_for_stream(body: bytes | None, content_type: str) -> bytes | None:
    if not body:
        return body
    kind = content_type.split(";")[0].strip().lower()
    text = body.decode("utf-8", errors="replace")
    if kind == "application/x-www-form-urlencoded":
        fields = parse_qsl(text, keep_blank_values=True)
        if any(name == "stream" for name, _ in fields):
            fields = [(n, "true" if n == "stream" else v) for n, v in fields]
            return urlencode(fields).encode("ascii")
    elif kind == "application/json" or kind.endswith("+json"):
        try:
            value = json.loads(text)
        except ValueError:
            return body
        if isinstance(value, dict) and value.get("stream") is False:
            return json.dumps({**value, "stream": True}).encode("utf-8")
    return body


# Judging: pure


def judge_read(
    document: Mapping[str, Any],
    stream: StreamResponse,
    read: StreamRead,
    limits: StreamLimits,
    *,
    ends_by_itself: bool = True,
) -> list[tuple[str, ContractViolation]]:
    """Framing, items and event names of one read; with `ends_by_itself`, its end too."""
    label = stream.label
    found: list[tuple[str, ContractViolation]] = []
    for problem in dict.fromkeys(read.problems):
        found.append(
            (
                StreamFramingBroken.check,
                StreamFramingBroken(
                    operation=label,
                    message=f"Status {stream.status} {stream.media_type}: {problem}",
                    key=f"{stream.status}:{problem.split(':')[0]}",
                ),
            )
        )
    judge = ItemJudge(document, stream.item_schema, sse=stream.is_sse)
    seen: set[str] = set()
    for number, item in enumerate(read.items, start=1):
        for fault in judge.problems(item):
            if fault.key in seen:
                continue
            seen.add(fault.key)
            cls = UndeclaredEventName if fault.kind == "event-name" else StreamItemInvalid
            found.append(
                (
                    cls.check,
                    cls(
                        operation=label,
                        message=f"Status {stream.status} {stream.media_type}, item {number}: "
                        f"{fault.message}",
                        key=f"{stream.status}:{fault.key}",
                    ),
                )
            )
    if ends_by_itself and read.ended in HOW_IT_STOPPED:
        how = HOW_IT_STOPPED[read.ended].format(
            max_events=limits.max_events, seconds=limits.seconds, max_bytes=limits.max_bytes
        )
        found.append(
            (
                StreamNotEnded.check,
                StreamNotEnded(
                    operation=label,
                    message=f"Status {stream.status} {stream.media_type}: the stream {how}",
                    key=f"{stream.status}:{read.ended}",
                ),
            )
        )
    return found


def judge_link(
    stream: StreamResponse,
    link: EndsStreamLink,
    read: StreamRead,
    call: LinkCall | None,
    limits: StreamLimits,
    unresolved: str | None,
) -> list[tuple[str, ContractViolation]]:
    """Whether following `link` ended the stream in time, with the terminal event last."""
    check = StreamNotEndedByLink.check
    label = stream.label
    where = f"link {link.name} ({link.operation_id})"
    if call is None:
        reason = unresolved or "the stream ended before any item gave the link's parameters"
        return [
            (
                check,
                StreamNotEndedByLink(
                    operation=label, message=f"{where}: {reason}", key=f"{link.name}:not-followed"
                ),
            )
        ]
    answered = f"answered {call.status}" if call.status is not None else f"failed ({call.error})"
    if read.ended != "closed":
        how = HOW_IT_STOPPED.get(read.ended, "did not end").format(
            max_events=limits.max_events, seconds=limits.seconds, max_bytes=limits.max_bytes
        )
        if read.ended == "error":
            how = f"broke off ({read.error})"
        return [
            (
                check,
                StreamNotEndedByLink(
                    operation=label,
                    message=f"{where}: {call.method} {urlsplit(call.url).path} {answered}, "
                    f"and the stream {how} after it",
                    key=f"{link.name}:{read.ended}",
                ),
            )
        ]
    if link.terminal_event is None:
        return []
    last = terminal_name(read.items[-1]) if read.items else None
    if last == link.terminal_event:
        return []
    shown_last = shown(last) if last is not None else "no item"
    return [
        (
            StreamWrongTerminalEvent.check,
            StreamWrongTerminalEvent(
                operation=label,
                message=f"{where}: {call.method} {urlsplit(call.url).path} {answered}; the "
                f"stream ended with {shown_last}, expected {link.terminal_event}",
                key=f"{link.name}:{shown_last}",
            ),
        )
    ]


def terminal_name(item: Item) -> str | None:
    """An item's event name: the SSE event's, or a JSON item's `event` field."""
    if isinstance(item, SseEvent):
        return item.name
    value = item.value
    return str(value["event"]) if isinstance(value, dict) and "event" in value else None


def item_json(item: Item) -> Any:
    if isinstance(item, JsonRecord):
        return item.value
    try:
        return json.loads(item.data)
    except ValueError:
        return None


# Following a link


@dataclass(slots=True)
class LinkTarget:
    method: str
    path: str
    parameters: list[tuple[str, str]]  # (location, name) of the linked operation's parameters


def link_target(document: Mapping[str, Any], link: EndsStreamLink) -> LinkTarget | None:
    found = find_operation(document, link.operation_id)
    if found is None:
        return None
    path, method, operation = found
    declared: list[tuple[str, str]] = []
    for raw in operation.get("parameters") or []:
        parameter = resolved(document, raw, {})
        if isinstance(parameter, dict) and "name" in parameter and "in" in parameter:
            declared.append((str(parameter["in"]), str(parameter["name"])))
    return LinkTarget(method.upper(), path, declared)


def resolve_expression(
    expression: Any, case: Case[Any], request: StreamRequest, item: Item | None
) -> tuple[bool, Any]:
    """(found, value) of a link parameter: a runtime expression or a literal."""
    if not isinstance(expression, str) or not expression.startswith("$"):
        return True, expression
    if expression.startswith("$response.body#"):
        if item is None:
            return False, None
        value = resolve_pointer(item_json(item), expression.removeprefix("$response.body#"))
        return (False, None) if is_missing(value) else (True, value)
    source, _, name = expression.removeprefix("$request.").partition(".")
    if expression.startswith("$request.") and name:
        container: Any = {
            "path": case.path_parameters,
            "query": case.query,
            "header": {k.lower(): v for k, v in request.headers.items()},
        }.get(source)
        key = name.lower() if source == "header" else name
        if isinstance(container, Mapping) and key in container:
            return True, container[key]
    return False, None


def build_call(
    base_url: str,
    target: LinkTarget,
    values: Mapping[str, Any],
    headers: Mapping[str, str],
) -> tuple[str, dict[str, str]]:
    """URL and headers of the linked request from resolved parameter values."""
    path = target.path
    query: list[tuple[str, str]] = []
    sent = dict(headers)
    for name, value in values.items():
        location, dot, bare = name.partition(".")
        if not dot or location not in ("path", "query", "header", "cookie"):
            location = next((loc for loc, n in target.parameters if n == name), "path")
            bare = name
        text = value if isinstance(value, str) else json.dumps(value)
        if location == "path":
            path = path.replace("{" + bare + "}", quote(text, safe=""))
        elif location == "query":
            query.append((bare, text))
        elif location == "header":
            sent[bare] = text
    url = base_url + path + (f"?{urlencode(query)}" if query else "")
    return url, sent


# Running


def run(
    document: Mapping[str, Any],
    planned: Sequence[tuple[StreamResponse, Candidate]],
    limits: StreamLimits,
    *,
    base_url: str,
    headers: Mapping[str, str],
    request_timeout: float,
) -> Iterator[StreamOutcome]:
    """Each planned stream read, then each of its ends-stream links followed."""
    for stream, candidate in planned:
        request = stream_request(candidate, stream.media_type)
        outcome = asyncio.run(_plain(document, stream, candidate, request, limits))
        yield outcome
        if outcome.read.media_type != stream.media_type:
            continue  # no stream to end: the note says so
        for link in stream.links:
            yield asyncio.run(
                _follow(
                    document,
                    stream,
                    candidate,
                    request,
                    link,
                    limits,
                    base_url,
                    headers,
                    request_timeout,
                )
            )


def _client(timeout: float) -> httpx.AsyncClient:
    # Only what we set: no proxies or credentials from the environment; loopback or the --url.
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout), trust_env=False, follow_redirects=False
    )


async def _plain(
    document: Mapping[str, Any],
    stream: StreamResponse,
    candidate: Candidate,
    request: StreamRequest,
    limits: StreamLimits,
) -> StreamOutcome:
    async with _client(limits.seconds) as client:
        read = await read_stream(client, request, limits, media_type=stream.media_type)
    outcome = StreamOutcome("read", stream, candidate.case, request, read)
    if read.media_type != stream.media_type:
        outcome.notes.append(_not_a_stream(stream, read))
        outcome.summary = "not streamed"
        return outcome
    outcome.findings = judge_read(document, stream, read, limits)
    outcome.summary = f"{len(read.items)} items, {_ended(read)}"
    return outcome


async def _follow(
    document: Mapping[str, Any],
    stream: StreamResponse,
    candidate: Candidate,
    request: StreamRequest,
    link: EndsStreamLink,
    limits: StreamLimits,
    base_url: str,
    headers: Mapping[str, str],
    request_timeout: float,
) -> StreamOutcome:
    target = link_target(document, link)
    state: dict[str, Any] = {"call": None, "task": None, "unresolved": None}
    if target is None:
        state["unresolved"] = f"no operation {shown(link.operation_id)} in the contract"

    async def on_item(item: Item, read: StreamRead) -> None:
        if target is None or state["task"] is not None:
            return
        values: dict[str, Any] = {}
        for name, expression in link.parameters.items():
            found, value = resolve_expression(expression, candidate.case, request, item)
            if not found:
                if not str(expression).startswith("$response.body"):
                    state["unresolved"] = f"cannot resolve {shown(str(expression))}"
                return  # wait for an item that has it
            values[name] = value
        url, sent = build_call(base_url, target, values, headers)
        read.mark = time.monotonic()
        read.extend(limits.seconds)  # from the call on, the stream has --stream-timeout to end
        state["task"] = asyncio.create_task(
            _call(client, target.method, url, sent, request_timeout)
        )

    async with _client(max(limits.seconds, request_timeout)) as client:
        read = await read_stream(
            client, request, limits, media_type=stream.media_type, on_item=on_item
        )
        task = state["task"]
        call: LinkCall | None = await task if task is not None else None
    outcome = StreamOutcome(f"link {link.name}", stream, candidate.case, request, read, call=call)
    outcome.findings = [
        *judge_read(document, stream, read, limits, ends_by_itself=False),
        *judge_link(stream, link, read, call, limits, state["unresolved"]),
    ]
    outcome.summary = _link_summary(link, read, outcome)
    return outcome


async def _call(
    client: httpx.AsyncClient, method: str, url: str, headers: Mapping[str, str], timeout: float
) -> LinkCall:
    try:
        response = await client.request(method, url, headers=dict(headers), timeout=timeout)
    except httpx.HTTPError as exc:
        return LinkCall(method, url, None, type(exc).__name__)
    return LinkCall(method, url, response.status_code)


def _not_a_stream(stream: StreamResponse, read: StreamRead) -> str:
    if read.status is None:
        return f"{stream.label}: asked for {stream.media_type}: no answer ({read.error})"
    return (
        f"{stream.label}: asked for {stream.media_type}, answered {read.status} "
        f"{shown(read.media_type or 'without a Content-Type', 60)}: its stream was not read"
    )


def _ended(read: StreamRead) -> str:
    return {
        "closed": "ended",
        "events": "cut at the event limit",
        "timeout": "cut at the time limit",
        "bytes": "cut at the byte limit",
    }.get(read.ended, f"broke off ({read.error})")


def _link_summary(link: EndsStreamLink, read: StreamRead, outcome: StreamOutcome) -> str:
    if outcome.call is None:
        return f"{link.name}: not followed"
    failed = any(check == StreamNotEndedByLink.check for check, _ in outcome.findings)
    verdict = "failed" if failed else "passed"
    last = terminal_name(read.items[-1]) if read.items else None
    after = read.since_mark()
    timing = f" {after * 1000:.0f} ms after the call" if after is not None else ""
    return f"{link.name}: {verdict}, {_ended(read)}{timing} with {shown(last or 'no item')}"
