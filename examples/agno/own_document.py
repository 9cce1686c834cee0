"""Agno's AgentOS against Agno's own document, and plain `st run` against the same server.

    python examples/agno/own_document.py [--reports reports/agno] [--seed N] [--max-examples N]

Run with the project's Python (`make conform-agno` runs it after conform_agno.py). It starts the
offline AgentOS of `app.py` with `OS_SECURITY_KEY` set and, one after the other against that
server, with the same example budget and seed:

1. `contract conform ../shared/contracts/agno-agentos-3.1.10.json --rename-duplicate-operation-ids`
   (the document gives `get_config` to two operations), the workflow id pinned, at the default
   settings otherwise; reports in REPORTS/own-keyed/;
2. `st run --checks all` on the same document with that one id renamed (Schemathesis refuses the
   duplicate too), the same workflow id, token and budget; its JSON report in REPORTS/own-st/.

REPORTS/own.json holds the wall time and the findings of each by family, and which operations
each family caught in one run and not in the other: `docs/third-party/agno-own-document.md` is
written from it. The token is in the environment only: CONTRACT_TOKEN for ours, and a
`${AGNO_KEY}` reference in the Schemathesis configuration file for st.

Exit 0 when both runs completed (findings or not), 2 when one could not be run.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from examples.agno.conform_agno import (  # noqa: E402
    WORKFLOW_ID,
    HarnessError,
    agno_server,
    conform,
    ensure_venv,
)
from generator.spec.loader import load_spec  # noqa: E402
from generator.spec.operation_ids import rename_duplicates  # noqa: E402

DOCUMENT = REPO.parent / "shared" / "contracts" / "agno-agentos-3.1.10.json"
DEFAULT_SEED = 20261124
DEFAULT_MAX_EXAMPLES = 50  # contract conform's default: the document "at default settings"
TIMEOUT = 1800.0
# Schemathesis' failure codes and the code of ours that judges the same thing (None: no check of
# ours does; the doc triages those findings by hand).
ST_FAMILIES: dict[str, str | None] = {
    "ST101": "CT108",  # server error
    "ST102": "CT103",  # response schema
    "ST103": "CT101",  # undocumented status
    "ST104": "CT104",  # content type
    "ST201": "CT109",  # schema-violating request accepted
    "ST202": None,  # schema-valid request rejected
    "ST204": "CT107",  # undeclared method answered
    "ST205": "CT117",  # the Allow header of a 405
}
# Families judged per path (the method probes), not per operation: compared by path.
PER_PATH = frozenset({"ST204", "ST205", "CT107", "CT117"})
ST_CONFIG = """\
headers = { Authorization = "Bearer ${AGNO_KEY}" }

[parameters]
"path.workflow_id" = "%s"
"""


def renamed_document(folder: Path) -> Path:
    """Agno's document with the later `get_config` renamed, as `contract conform` reads it."""
    spec, _ = rename_duplicates(load_spec(DOCUMENT))
    path = folder / "agno-agentos-3.1.10.renamed.json"
    path.write_text(json.dumps(spec.document, indent=2) + "\n", encoding="utf-8")
    return path


def run_ours(url: str, key: str, report: Path, seed: int, max_examples: int) -> dict[str, Any]:
    started = time.monotonic()
    done = conform(
        DOCUMENT,
        url,
        token=key,
        report=report,
        seed=seed,
        max_examples=max_examples,
        extra_args=("--rename-duplicate-operation-ids",),
        timeout=TIMEOUT,
    )
    seconds = time.monotonic() - started
    if done.returncode not in (0, 1) or not (report / "report.json").exists():
        raise HarnessError(f"contract conform exited {done.returncode}: {done.stderr[-500:]}")
    (report / "summary.txt").write_text(done.stdout, encoding="utf-8")
    data = json.loads((report / "report.json").read_text(encoding="utf-8"))
    families: dict[str, set[str]] = {}
    for finding in data["findings"]:
        code = finding["code"]
        families.setdefault(code, set()).add(where(code, finding["operation"]))
    return {
        "seconds": round(seconds, 1),
        "exit_code": done.returncode,
        "findings": len(data["findings"]),
        "requests": data["requests"],
        "families": {check: sorted(ops) for check, ops in sorted(families.items())},
        "untested": len(data["untested_operations"]),
        "unavailable": data["unavailable_operations"],
    }


def run_st(
    url: str, key: str, document: Path, folder: Path, seed: int, max_examples: int
) -> dict[str, Any]:
    config = folder / "schemathesis.toml"
    config.write_text(ST_CONFIG % WORKFLOW_ID, encoding="utf-8")
    st = Path(sys.executable).with_name("st")
    command = [
        str(st),
        "--config-file",
        str(config),
        "run",
        str(document),
        "--url",
        url,
        "--checks",
        "all",
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--report",
        "json",
        "--report-dir",
        str(folder),
    ]
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603
        command,
        env={**os.environ, "AGNO_KEY": key},
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    seconds = time.monotonic() - started
    reports = sorted(folder.glob("json-*.json"))
    if done.returncode not in (0, 1) or not reports:
        raise HarnessError(f"st run exited {done.returncode}: {(done.stdout + done.stderr)[-500:]}")
    (folder / "summary.txt").write_text(done.stdout, encoding="utf-8")
    data = json.loads(reports[-1].read_text(encoding="utf-8"))
    families = {
        failure["code"]: {
            "title": failure["title"],
            "operations": sorted({where(failure["code"], op) for op in failure["operations"]}),
        }
        for failure in data["failures"]
    }
    return {
        "seconds": round(seconds, 1),
        "exit_code": done.returncode,
        "findings": sum(int(failure["count"]) for failure in data["failures"]),
        "test_cases": data["test_cases"]["generated"],
        "families": dict(sorted(families.items())),
    }


def where(code: str, operation: str) -> str:
    """The operation, or only its path for the families the method probes judge per path."""
    return operation.partition(" ")[2] if code in PER_PATH else operation


def compare(ours: dict[str, Any], st: dict[str, Any]) -> list[dict[str, Any]]:
    """Per Schemathesis family: the operations (or paths) both caught, only st, only ours."""
    rows = []
    for code, family in st["families"].items():
        check = ST_FAMILIES.get(code)
        theirs = set(family["operations"])
        mine = set(ours["families"].get(check, [])) if check else set()
        rows.append(
            {
                "st": code,
                "title": family["title"],
                "ours": check,
                "both": sorted(theirs & mine),
                "only_st": sorted(theirs - mine),
                "only_ours": sorted(mine - theirs),
            }
        )
    covered = {ST_FAMILIES.get(code) for code in st["families"]}
    for code, operations in ours["families"].items():
        if code not in covered:
            rows.append(
                {
                    "st": None,
                    "title": None,
                    "ours": code,
                    "both": [],
                    "only_st": [],
                    "only_ours": operations,
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=Path, default=REPO / "reports" / "agno")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--max-examples", type=int, default=DEFAULT_MAX_EXAMPLES)
    args = parser.parse_args(argv)
    reports: Path = args.reports
    reports.mkdir(parents=True, exist_ok=True)
    try:
        python = ensure_venv(log=reports / "install.log")
        key = secrets.token_urlsafe(24)
        ours_folder, st_folder = reports / "own-keyed", reports / "own-st"
        for folder in (ours_folder, st_folder):
            shutil.rmtree(folder, ignore_errors=True)
        st_folder.mkdir()
        document = renamed_document(st_folder)
        with tempfile.TemporaryDirectory(prefix="agno-db-") as scratch:
            log = reports / "agno-own.log"
            with agno_server(python, key=key, log=log, db_dir=Path(scratch)) as url:
                print(f"contract conform on Agno's own document against {url} ...", flush=True)
                ours = run_ours(url, key, ours_folder, args.seed, args.max_examples)
                print(f"st run --checks all on the same document against {url} ...", flush=True)
                st = run_st(url, key, document, st_folder, args.seed, args.max_examples)
    except (HarnessError, subprocess.TimeoutExpired) as exc:
        print(f"own-document: {exc}", file=sys.stderr)
        return 2
    summary = {
        "document": os.path.relpath(DOCUMENT, REPO),
        "seed": args.seed,
        "max_examples": args.max_examples,
        "ours": ours,
        "st": st,
        "families": compare(ours, st),
    }
    (reports / "own.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(
        f"ours: {ours['findings']} findings in {ours['seconds']} s "
        f"(exit {ours['exit_code']}); st run: {st['findings']} failures in {st['seconds']} s "
        f"(exit {st['exit_code']}); {reports / 'own.json'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
