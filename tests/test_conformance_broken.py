"""Every deliberately broken server is caught for the right reason; the good one passes.

Each case starts the server with real uvicorn on 127.0.0.1 and runs `contract conform --url`.
`allowed` is every check that may fire on that server: a finding outside it is a false positive.

The Schemathesis 4.32 traps are pinned here too: the good server answers the coverage phase's
unsupported-method probes with 405 and reads `background=0` as a boolean (zero findings expected);
`GET /workflows` declares `default`, and a 409 there is still reported; and one operation yields
several findings (the run does not stop at the first failure per operation).

A run is a few seconds of subprocesses, and the same server with the same arguments gives the
same report: the tests that read one run share it (`conform_outcomes`, run once per session).
"""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from tests.support.outcomes import ConformOutcomes

# Every test reads a conformance run against a real server (seconds each).
pytestmark = pytest.mark.slow

CATCH_TABLE = [
    # (server, check that must catch it, checks allowed to fire, extra arguments)
    ("undeclared_status", "declared_status", {"declared_status", "auth_required"}, ()),
    ("schema_mismatch", "declared_schema", {"declared_schema"}, ()),
    ("content_type", "declared_content_type", {"declared_content_type"}, ()),
    ("auth_bypass", "auth_required", {"auth_required"}, ()),
    ("undeclared_method", "undeclared_method", {"undeclared_method"}, ()),
    ("allow_incomplete", "undeclared_method", {"undeclared_method"}, ()),
    ("server_error", "no_server_error", {"no_server_error"}, ()),
    ("accepts_invalid", "invalid_request_rejected", {"invalid_request_rejected"}, ()),
    ("slow", "request_timeout", {"request_timeout"}, ("--request-timeout", "1")),
    ("garbled", "declared_schema", {"declared_schema"}, ()),
]


@pytest.mark.parametrize(
    ("server", "check", "allowed", "extra"), CATCH_TABLE, ids=[row[0] for row in CATCH_TABLE]
)
def test_broken_server_is_caught_by_the_right_check(
    server: str,
    check: str,
    allowed: set[str],
    extra: tuple[str, ...],
    conform_outcomes: ConformOutcomes,
) -> None:
    outcome = conform_outcomes.get(server, *extra)
    assert outcome.returncode == 1, outcome.stdout + outcome.stderr
    assert check in outcome.checks()
    assert outcome.checks() <= allowed, f"unexpected findings: {outcome.checks() - allowed}"
    assert check in outcome.stdout  # the terminal summary names it too
    assert "NOT CONFORMANT" in outcome.stdout


def test_good_server_passes_with_zero_findings(conform_outcomes: ConformOutcomes) -> None:
    outcome = conform_outcomes.get("good", max_examples=20)
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    report = outcome.report()
    assert report["findings"] == []
    assert report["errors"] == []
    assert report["verdict"] == "CONFORMANT"
    assert "CONFORMANT: 0 findings" in outcome.stdout


def test_undeclared_statuses_name_the_status_and_the_default_fallback(
    conform_outcomes: ConformOutcomes,
) -> None:
    outcome = conform_outcomes.get("undeclared_status")
    findings = outcome.report()["findings"]
    titles = {(f["operation"], f["title"], f["key"]) for f in findings}
    cancel = "POST /workflows/{workflow_id}/runs/{run_id}/cancel"
    assert (cancel, "Undeclared status code", "403") in titles
    # GET /workflows declares `default`: a 409 there is reported as covered only by it.
    default_only = "Undeclared status code, covered only by `default`"
    assert ("GET /workflows", default_only, "409") in titles
    # The 403 on auth failure is also an auth finding: rejected without the declared 401.
    auth = {f["key"] for f in findings if f["check"] == "auth_required"}
    assert {"no credentials:403", "wrong credentials:403"} <= auth


def test_without_a_token_missing_credentials_are_only_an_auth_finding(
    conform_outcomes: ConformOutcomes,
) -> None:
    # Schemathesis counts a request without its security header as negative data; accepting it
    # is `auth_required`'s finding, not also `invalid_request_rejected`'s (a false positive once).
    outcome = conform_outcomes.get("auth_bypass", "--allow-unauthenticated", token=None)
    assert outcome.returncode == 1
    assert outcome.checks() == {"auth_required"}
    notes = outcome.report()["notes"]
    assert "no --token: secured operations were checked only for their 401 answers" in notes


def test_auth_bypass_findings_name_each_probe_that_got_in(
    conform_outcomes: ConformOutcomes,
) -> None:
    outcome = conform_outcomes.get("auth_bypass")
    keys = {(f["key"], f["title"]) for f in outcome.report()["findings"]}
    assert ("no credentials", "Authentication not enforced") in keys
    assert ("another scheme", "Authentication not enforced") in keys
    # The wrong token is refused with the declared 401: no finding for it.
    assert not any(key == "wrong credentials" for key, _ in keys)


def test_negative_finding_names_the_invalid_component(conform_outcomes: ConformOutcomes) -> None:
    outcome = conform_outcomes.get("accepts_invalid")
    (finding,) = outcome.report()["findings"]
    assert finding["operation"] == "GET /workflows"
    assert "limit" in finding["message"]
    assert finding["response"]["status"] == 200


def test_server_error_is_reported_with_the_request_that_caused_it(
    conform_outcomes: ConformOutcomes,
) -> None:
    outcome = conform_outcomes.get("server_error")
    (finding,) = outcome.report()["findings"]
    assert finding["response"]["status"] == 500
    # The server fails on unknown workflows: the request shows one.
    workflow_id = finding["request"]["url"].partition("/workflows/")[2].partition("/runs/")[0]
    assert unquote(workflow_id) != "demo"
    assert finding["curl"].startswith("curl ")


def test_a_body_that_is_not_utf8_is_said_so_with_the_request_and_the_fix(
    conform_outcomes: ConformOutcomes,
) -> None:
    outcome = conform_outcomes.get("garbled")
    report = outcome.report()
    assert report["errors"] == []  # findings, not engine errors
    for finding in report["findings"]:
        assert "the body is not valid UTF-8" in finding["message"]
        assert "send text in the charset the Content-Type declares" in finding["message"]
        assert finding["curl"].startswith("curl -sS -i -X ")
    flat = " ".join(outcome.stdout.split())
    assert "the body is not valid UTF-8" in flat and "Runtime Error" not in flat


def test_what_a_deployment_does_not_serve_is_unavailable_not_a_finding(
    conform_outcomes: ConformOutcomes,
) -> None:
    outcome = conform_outcomes.get("unavailable")
    report = outcome.report()
    assert report["findings"] == [], report["findings"]
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    unavailable = report["unavailable_operations"]
    assert set(unavailable) == {
        "POST /workflows/{workflow_id}/runs",
        "POST /workflows/{workflow_id}/runs/{run_id}/cancel",
    }
    assert all(count > 0 for count in unavailable.values())
    assert "unavailable: 2 operations answered 503 Service Unavailable" in outcome.stdout
    assert "GET /workflows" not in unavailable  # served, and checked as usual


def test_a_server_answering_only_503_tested_nothing(conform_outcomes: ConformOutcomes) -> None:
    outcome = conform_outcomes.get("all_unavailable")
    assert outcome.returncode == 2, outcome.stdout + outcome.stderr
    assert outcome.report()["verdict"] == "NOT TESTED"
    assert "every operation answered 503 Service Unavailable" in outcome.stdout


def test_a_405_that_leaves_a_declared_method_out_of_allow_is_ct117(
    conform_outcomes: ConformOutcomes,
) -> None:
    findings = conform_outcomes.get("allow_incomplete").report()["findings"]
    assert {f["code"] for f in findings} == {"CT117"}
    operations = {f["operation"] for f in findings}
    assert "GET /workflows" not in operations  # Allow: GET is right there
    assert "POST /workflows/{workflow_id}/runs/{run_id}/cancel" in operations
    cancel = next(f for f in findings if f["operation"].endswith("/cancel"))
    assert "with Allow: GET" in cancel["message"] and "missing: POST" in cancel["message"]
