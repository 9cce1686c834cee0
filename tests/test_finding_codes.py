"""Every finding code is unique, belongs to a registered check, and is documented in the README."""

from __future__ import annotations

import re

from conformance import failures
from conformance.checks import CHECK_NAMES
from conformance.stream_checks import STREAM_CHECK_NAMES
from tests.conftest import REPO


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
    # A timeout is found by the runner, the stream checks by our stream reads: not registered.
    assert {cls.check for cls in classes} == {*CHECK_NAMES, *STREAM_CHECK_NAMES, "request_timeout"}


def test_every_code_is_documented_in_the_readme_with_its_check() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(CT\d{3})` \| `([a-z_]+)` \|", readme, flags=re.MULTILINE))
    assert rows == {cls.code: cls.check for cls in violation_classes()}
