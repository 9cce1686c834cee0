"""Every finding code is unique, belongs to a registered check, and is documented in the README."""

from __future__ import annotations

import re

from conformance import failures
from conformance.checks import CHECK_NAMES
from conformance.stream_checks import STREAM_CHECK_NAMES
from tests.conftest import REPO, run_contract


def violation_classes() -> list[type[failures.ContractViolation]]:
    return [
        cls
        for cls in vars(failures).values()
        if isinstance(cls, type)
        and issubclass(cls, failures.ContractViolation)
        and cls is not failures.ContractViolation
    ]


def test_codes_are_unique_and_name_a_registered_check() -> None:
    classes = violation_classes()
    codes = [cls.code for cls in classes]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"CT1\d\d", code) for code in codes), codes
    # A timeout and a refused response are found by the runner, the stream checks by our stream
    # reads: not registered.
    runner_checks = {"request_timeout", "response_limits"}
    assert {cls.check for cls in classes} == {*CHECK_NAMES, *STREAM_CHECK_NAMES, *runner_checks}


def test_every_code_is_documented_in_the_readme_with_its_check() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(CT\d{3})` \| `([a-z_]+)` \|", readme, flags=re.MULTILINE))
    assert rows == {cls.code: cls.check for cls in violation_classes()}


def test_every_code_has_an_explanation_naming_its_check() -> None:
    from conformance.explain import explanations

    documented = {code: (e.check, e.title) for code, e in explanations().items()}
    assert {cls.code: (cls.check, cls.kind_title) for cls in violation_classes()}.items() <= (
        documented.items()
    )
    for explanation in explanations().values():
        assert all(len(text) > 40 for text in (explanation.means, explanation.matters))
        assert len(explanation.fix) > 40


def test_contract_explain_prints_meaning_reason_and_fix() -> None:
    done = run_contract("explain", "ct103")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("CT103 · declared_schema · Response body does not match")
    for heading in ("What it means", "Why it matters", "How to fix a server that fails it"):
        assert heading in done.stdout
    listed = run_contract("explain")
    assert listed.returncode == 0
    listed_codes = re.findall(r"^(CT\d{3}) ", listed.stdout, flags=re.MULTILINE)
    assert listed_codes[:10] == [f"CT1{n:02d}" for n in range(1, 11)]


def test_an_unknown_code_is_exit_2_with_a_suggestion() -> None:
    done = run_contract("explain", "CT1O8")
    assert done.returncode == 2 and done.stdout == ""
    assert "unknown finding code 'CT1O8'; did you mean CT108" in done.stderr
    by_check = run_contract("explain", "auth_required")
    assert by_check.returncode == 2 and "did you mean CT105 or CT106?" in by_check.stderr


def test_every_finding_has_its_code_in_report_json_and_junit() -> None:
    import json
    from xml.etree import ElementTree as ET

    from conformance.explain import explanations
    from conformance.report import render_json, render_junit
    from tests.support.results import agno_shaped_result

    result = agno_shaped_result()
    findings = json.loads(render_json(result))["findings"]
    assert findings and all(f["code"] in explanations() for f in findings)
    failures = ET.fromstring(render_junit(result)).iter("failure")  # noqa: S314 - our own XML
    assert sorted(f.get("type") or "" for f in failures) == sorted(f["code"] for f in findings)
