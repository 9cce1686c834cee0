"""What the checks find: one failure type per contract rule, kept apart from the checks.

Each type has a fixed `title`, a terse `message`, a `severity` and a de-duplication key, the way
Schemathesis' own failures do. They subclass Schemathesis' `Failure` (through `KeyedFailure`) so
that the engine records them as check failures; the collector de-duplicates them over the whole
run by (operation, check, key).
"""

from __future__ import annotations

from typing import ClassVar

from .schemathesis_api import KeyedFailure, Severity

__all__ = [
    "AllowHeaderIncomplete",
    "AuthNotEnforced",
    "AuthRejectedWrongly",
    "ContractViolation",
    "InvalidRequestAccepted",
    "RequestTimedOut",
    "ResponseRefused",
    "SchemaMismatch",
    "ServerError",
    "Severity",
    "StatusOnlyCoveredByDefault",
    "StreamFramingBroken",
    "StreamItemInvalid",
    "StreamNotEnded",
    "StreamNotEndedByLink",
    "StreamWrongTerminalEvent",
    "UndeclaredEventName",
    "UndeclaredContentType",
    "UndeclaredMethodAccepted",
    "UndeclaredStatus",
]


class ContractViolation(KeyedFailure):
    """A response (or a missing one) that breaks the contract."""

    code: ClassVar[str] = "CT900"
    kind_title: ClassVar[str] = "Contract violation"
    # The check that reports this failure, as named in reports and junit.xml.
    check: ClassVar[str] = ""
    default_severity: ClassVar[Severity] = Severity.HIGH

    __slots__ = ()

    def __init__(
        self,
        *,
        operation: str,
        message: str,
        key: str = "",
        severity: Severity | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(
            operation=operation,
            title=title,
            message=message,
            key=key,
            severity=severity or self.default_severity,
        )


class UndeclaredStatus(ContractViolation):
    code = "CT101"
    kind_title = "Undeclared status code"
    check = "declared_status"


class StatusOnlyCoveredByDefault(ContractViolation):
    code = "CT102"
    kind_title = "Undeclared status code, covered only by `default`"
    check = "declared_status"
    default_severity = Severity.MEDIUM


class SchemaMismatch(ContractViolation):
    code = "CT103"
    kind_title = "Response body does not match the declared schema"
    check = "declared_schema"


class UndeclaredContentType(ContractViolation):
    code = "CT104"
    kind_title = "Undeclared content type"
    check = "declared_content_type"
    default_severity = Severity.MEDIUM


class AuthNotEnforced(ContractViolation):
    code = "CT105"
    kind_title = "Authentication not enforced"
    check = "auth_required"
    default_severity = Severity.CRITICAL


class AuthRejectedWrongly(ContractViolation):
    code = "CT106"
    kind_title = "Missing or wrong credentials not answered with the declared 401"
    check = "auth_required"


class UndeclaredMethodAccepted(ContractViolation):
    code = "CT107"
    kind_title = "Undeclared method answered with 2xx"
    check = "undeclared_method"


class AllowHeaderIncomplete(ContractViolation):
    code = "CT117"
    kind_title = "405 without the declared methods in Allow"
    check = "undeclared_method"
    default_severity = Severity.MEDIUM


class ServerError(ContractViolation):
    code = "CT108"
    kind_title = "Server error"
    check = "no_server_error"
    default_severity = Severity.CRITICAL


class InvalidRequestAccepted(ContractViolation):
    code = "CT109"
    kind_title = "Request that violates the schema accepted with 2xx"
    check = "invalid_request_rejected"


class RequestTimedOut(ContractViolation):
    code = "CT110"
    kind_title = "No response within the request timeout"
    check = "request_timeout"


class ResponseRefused(ContractViolation):
    """A response the runner will not read: past `--max-response-bytes` (a decompression bomb,
    an endless body), headers past http.client's limits, a body that does not decode."""

    code = "CT120"
    kind_title = "Response the runner refused to read"
    check = "response_limits"


# Streams (conformance.stream_checks): found by our stream reads, not by a registered check.


class StreamFramingBroken(ContractViolation):
    code = "CT111"
    kind_title = "Stream framing broken"
    check = "stream_framing"


class StreamItemInvalid(ContractViolation):
    code = "CT112"
    kind_title = "Stream item does not match the item schema"
    check = "stream_items"


class UndeclaredEventName(ContractViolation):
    code = "CT113"
    kind_title = "Event name the item schema does not allow"
    check = "stream_event_names"


class StreamNotEnded(ContractViolation):
    code = "CT114"
    kind_title = "Stream did not end within the stream limits"
    check = "stream_limits"
    default_severity = Severity.MEDIUM


class StreamNotEndedByLink(ContractViolation):
    code = "CT115"
    kind_title = "Following an ends-stream link did not end the stream in time"
    check = "stream_ends_on_link"


class StreamWrongTerminalEvent(ContractViolation):
    code = "CT116"
    kind_title = "Stream ended by a link without the contract's terminal event"
    check = "stream_ends_on_link"
