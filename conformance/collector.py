"""`Collector`: engine events and probe outcomes in, coverage counts and findings out.

Every request sent counts towards the coverage of its operation (when it used the operation's own
method); every failed check becomes a `Finding`, de-duplicated over the whole run by (operation,
check, code, key). The best accepted request per operation is kept as the base of the probes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import requests

from generator.terminal.progress import Progress

from .bounded_http import UnreadableResponse
from .checks import matching_status_key
from .credentials import security_of
from .error_lines import BUG_HINT, describe_exception, engine_curl, error_line
from .failures import RequestTimedOut, ResponseRefused
from .probes import Candidate, ProbeOutcome, SentRequest, candidate_rank
from .results import Exchange, Finding, OperationCoverage, Redactor, RunResult, StreamRow
from .schemathesis_api import (
    SERVER_UNAVAILABLE,
    UNRESPONSIVE_OPERATION,
    BaseSchema,
    StopReason,
    declared_statuses,
    events,
    recorded_failures,
    recorded_requests,
    schema_operations,
    unique_key,
)

if TYPE_CHECKING:
    from .schemathesis_api import Case, Failure, Interaction, Request
    from .stream_checks import StreamOutcome

TESTING_PHASES = ("examples", "coverage", "fuzzing", "stateful")


class Collector:
    """Turns engine events and probe outcomes into coverage counts and de-duplicated findings."""

    def __init__(
        self,
        result: RunResult,
        redactor: Redactor,
        document: Mapping[str, Any],
        headers: Mapping[str, str],
        progress: Progress,
    ) -> None:
        self.result = result
        self.redactor = redactor
        self.document = document
        self.headers = dict(headers)
        self.progress = progress
        self.candidates: dict[str, Candidate] = {}
        # The best accepted request per (operation, media type) that was answered with that
        # media type: what the stream checks replay first (a stream, not a JSON answer).
        self.streamed: dict[tuple[str, str], Candidate] = {}
        # A positive request per operation that got no response (a timeout: maybe a stream that
        # does not end): the stream checks' last resort, so that they can say why.
        self.unanswered: dict[str, Candidate] = {}
        self.by_identity: dict[tuple[str, str, str, str], Finding] = {}
        self.timed_out: set[str] = set()
        # Operations whose last request got a response we refused to read, and why.
        self.refused: dict[str, str] = {}
        self.operations = 0
        self.free_values = False
        self.server_gone = False

    def prepare(self, schema: BaseSchema) -> None:
        for operation in schema_operations(schema):
            if isinstance(operation, Exception):  # an operation Schemathesis cannot read
                what = (str(operation).strip().splitlines() or ["unreadable"])[0]
                self.result.errors.append(
                    self.redactor.text(
                        f"schema: {what}; what to do: fix the operation in the spec "
                        "(`contract validate SPEC` names the place); it was not tested"
                    )
                )
                continue
            declared = declared_statuses(operation)
            self.result.coverage[operation.label] = OperationCoverage(operation.label, declared)
        self.operations = len(self.result.coverage)

    def handle(self, event: events.EngineEvent) -> None:
        if isinstance(event, events.PhaseStarted):
            name = event.phase.name.value
            if (
                name in TESTING_PHASES
                and event.phase.is_enabled
                and event.phase.skip_reason is None
            ):
                label = f"{name} (free values)" if self.free_values else name
                if label not in self.result.phases:
                    self.result.phases.append(label)
                self.result.stateful = self.result.stateful or name == "stateful"
                self.progress.start_phase(label, 0 if name == "stateful" else self.operations)
        elif isinstance(event, events.ScenarioFinished):
            if event.is_test_scenario:
                self.scenario(event)
        elif isinstance(event, events.NonFatalError):
            self.engine_error(event)
        elif isinstance(event, events.EngineFinished):
            self.server_gone = event.stop_reason == StopReason.SERVER_UNAVAILABLE
        elif isinstance(event, events.FatalError):
            what, _ = describe_exception(event.exception)
            self.error(f"the test engine stopped: {what}; what to do: {BUG_HINT}")
        elif isinstance(event, events.Interrupted):
            raise KeyboardInterrupt

    def scenario(self, event: events.ScenarioFinished) -> None:
        recorder = event.recorder
        phase = event.phase.value + (" (free values)" if self.free_values else "")
        sent = 0
        for case, interaction in recorded_requests(recorder):
            sent += 1
            self.result.requests += 1
            response = interaction.response
            if response is None:
                self.consider_unanswered(case, interaction.request)
                label = case.operation.label
                if label in self.refused:
                    self.add_refused(case, self.exchange(interaction), phase, self.refused[label])
                elif label in self.timed_out:
                    self.add_timeout(case, self.exchange(interaction), phase)
                continue
            if interaction.request.method.upper() == case.operation.method.upper():
                self.count(case, response.status_code)
                authenticated = self.authenticated(case, interaction.request)
                if authenticated:
                    row = self.result.coverage[case.operation.label]
                    status = response.status_code
                    row.authenticated[status] = row.authenticated.get(status, 0) + 1
                self.consider(case, interaction.request, response.status_code, authenticated)
                content_type = response.headers.get("content-type") or [""]
                self.consider_stream(
                    case, interaction.request, response.status_code, content_type[0], authenticated
                )
        for check, failure, failed in recorded_failures(recorder):
            exchange = self.exchange(failed) if failed is not None else None
            self.add(check, failure, exchange, phase)
        self.progress.step(requests=sent, findings=len(self.result.findings))

    def engine_error(self, event: events.NonFatalError) -> None:
        error = event.value
        if isinstance(error, requests.Timeout):
            self.timed_out.add(event.label)
            return
        if isinstance(error, UnreadableResponse):
            self.refused[event.label] = error.reason
            return
        if event.info.title == UNRESPONSIVE_OPERATION and (
            event.label in self.timed_out or event.label in self.refused
        ):
            return
        if event.info.title == SERVER_UNAVAILABLE:
            self.error(
                f"the server at {self.result.base_url} stopped responding; what to do: check "
                "that it is still running and its log for the last requests, then rerun with "
                "the same --seed"
            )
            return
        curl = engine_curl(self.redactor.text(event.info.code_sample or ""))
        if event.related_to_operation:
            what, hint = describe_exception(error)
        else:  # a problem of the run itself (a hook, the schema), not of one request
            what = f"{event.info.title}: {describe_exception(error)[0]}"
            hint = BUG_HINT
        self.error(error_line(event.label, what, hint, curl))

    def error(self, message: str) -> None:
        text = self.redactor.text(message)
        if text not in self.result.errors:
            self.result.errors.append(text)

    def probe(self, outcome: ProbeOutcome) -> None:
        case = outcome.case
        self.result.requests += 1
        phase = f"probe ({outcome.kind})"
        request = outcome.request
        if outcome.response is None:
            exchange = self.redactor.exchange(
                method=request.method,
                url=request.url,
                request_headers=request.headers,
                request_body=request.body,
                status=None,
            )
            if isinstance(outcome.error, requests.Timeout):
                self.add_timeout(case, exchange, phase)
            elif isinstance(outcome.error, UnreadableResponse):
                self.add_refused(case, exchange, phase, outcome.error.reason)
            else:
                what, hint = (
                    describe_exception(outcome.error)
                    if outcome.error
                    else ("no response", "check the server's log for this request")
                )
                self.error(
                    error_line(case.operation.label, f"{phase}: {what}", hint, exchange.curl())
                )
            self.progress.step(findings=len(self.result.findings))
            return
        response = outcome.response
        if request.method == case.operation.method.upper():
            self.count(case, response.status_code)
        exchange = self.redactor.exchange(
            method=request.method,
            url=request.url,
            request_headers=request.headers,
            request_body=request.body,
            status=response.status_code,
            response_headers={k: v[0] for k, v in response.headers.items() if v},
            response_body=response.content,
            elapsed=response.elapsed,
        )
        for check, failure in outcome.failures:
            self.add(check, failure, exchange, phase)
        self.progress.step(requests=1, findings=len(self.result.findings))

    def count(self, case: Case[Any], status: int) -> None:
        row = self.result.coverage.get(case.operation.label)
        if row is None:
            declared = declared_statuses(case.operation)
            row = self.result.coverage[case.operation.label] = OperationCoverage(
                case.operation.label, declared
            )
        row.record(status, matching_status_key(status, row.declared))

    def authenticated(self, case: Case[Any], request: Request) -> bool | None:
        """Whether the request carried our credentials; None when the operation needs none."""
        security = security_of(self.document, case.operation.definition.raw)
        if not security.required:
            return None
        sent = {name: values[0] for name, values in request.headers.items() if values}
        return security.is_satisfied_by(sent, self.headers)

    def consider(
        self, case: Case[Any], request: Request, status: int, authenticated: bool | None
    ) -> None:
        rank = candidate_rank(case, status, authenticated is not False)  # None: open operation
        if rank is None:
            return
        label = case.operation.label
        current = self.candidates.get(label)
        if current is None or rank < current.rank:
            self.candidates[label] = Candidate(case, SentRequest.from_recorded(request), rank)

    def consider_unanswered(self, case: Case[Any], request: Request) -> None:
        if candidate_rank(case, 200, True) is not None:
            label = case.operation.label
            self.unanswered.setdefault(
                label, Candidate(case, SentRequest.from_recorded(request), (9, 9))
            )

    def consider_stream(
        self,
        case: Case[Any],
        request: Request,
        status: int,
        content_type: str,
        authenticated: bool | None,
    ) -> None:
        media_type = content_type.split(";")[0].strip().lower()
        rank = candidate_rank(case, status, authenticated is not False)
        if rank is None or rank[1] != 0 or not media_type:
            return
        key = (case.operation.label, media_type)
        current = self.streamed.get(key)
        if current is None or rank < current.rank:
            self.streamed[key] = Candidate(case, SentRequest.from_recorded(request), rank)

    def exchange(self, interaction: Interaction) -> Exchange:
        request = interaction.request
        response = interaction.response
        return self.redactor.exchange(
            method=request.method,
            url=request.uri,
            request_headers={k: v[0] for k, v in request.headers.items() if v},
            request_body=request.body,
            status=response.status_code if response is not None else None,
            response_headers=(
                {k: v[0] for k, v in response.headers.items() if v} if response else None
            ),
            response_body=response.content if response is not None else None,
            elapsed=response.elapsed if response is not None else None,
        )

    def add_timeout(self, case: Case[Any], exchange: Exchange, phase: str) -> None:
        timeout = self.result.request_timeout
        failure = RequestTimedOut(
            operation=case.operation.label,
            message=f"No response within {timeout:g} s (--request-timeout)",
            key="timeout",
        )
        self.add(RequestTimedOut.check, failure, exchange, phase)

    def add_refused(self, case: Case[Any], exchange: Exchange, phase: str, reason: str) -> None:
        failure = ResponseRefused(
            operation=case.operation.label,
            message=f"Response not read: {reason}",
            key=reason,
        )
        self.add(ResponseRefused.check, failure, exchange, phase)

    def add(self, check: str, failure: Failure, exchange: Exchange | None, phase: str) -> None:
        operation = failure.operation or ""
        key = self.redactor.text(unique_key(failure))
        identity = (operation, check, failure.code, key)
        known = self.by_identity.get(identity)
        if known is not None:
            known.occurrences += 1
            return
        finding = Finding(
            check=check,
            operation=operation,
            title=self.redactor.text(failure.title),
            message=self.redactor.text(failure.message),
            severity=str(failure.severity.value),
            code=failure.code,
            key=key,
            phase=phase,
            exchange=exchange,
        )
        self.by_identity[identity] = finding
        self.result.findings.append(finding)

    def stream(self, outcome: StreamOutcome) -> None:
        """A stream read of the stream checks: its requests, findings, notes and table row."""
        read, request, case = outcome.read, outcome.request, outcome.case
        self.result.requests += 1 + (outcome.call is not None)
        if read.status is not None:
            self.count(case, read.status)
        phase = f"streams ({outcome.kind})"
        exchange = self.redactor.exchange(
            method=request.method,
            url=request.url,
            request_headers=request.headers,
            request_body=request.body,
            status=read.status,
            response_headers=read.headers,
            response_body=read.excerpt,
            elapsed=read.elapsed,
        )
        for check, failure in outcome.findings:
            self.add(check, failure, exchange, phase)
        for note in outcome.notes:
            text = self.redactor.text(note)
            if text not in self.result.notes:
                self.result.notes.append(text)
        stream = outcome.stream
        self.result.streams.append(
            StreamRow(
                stream.label,
                stream.status,
                stream.media_type,
                outcome.kind,
                self.redactor.text(outcome.summary),
            )
        )
        self.progress.step(requests=1, findings=len(self.result.findings))
