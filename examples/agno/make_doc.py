"""Turn the reports of `conform_agno.py` into `docs/third-party/agno.md`.

    python examples/agno/make_doc.py [REPORTS] [--out docs/third-party/agno.md] [--strict]

Reads REPORTS/runs.json and REPORTS/<run>/report.json. Every finding is matched against NOTES,
the findings reproduced by hand with curl against a running Agno: each note says why the answer
breaks the contract and gives a curl line that reproduces it on a fresh server. A finding no
note explains is listed under "Not verified by hand" and, with --strict, makes the exit code 1.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# The address `python examples/agno/serve.py` listens on; the doc's curl lines use it.
DOC_URL = "http://127.0.0.1:7777"
EXCERPT = 300

LIST = "GET /workflows"
START = "POST /workflows/{workflow_id}/runs"
READ = "GET /workflows/{workflow_id}/runs/{run_id}"
CANCEL = "POST /workflows/{workflow_id}/runs/{run_id}/cancel"
AUTH = ' -H "Authorization: Bearer ${CONTRACT_TOKEN}"'
# What the by-hand line sends for each of the suite's auth attempts ({cred}).
CREDENTIALS = {
    "no credentials": "",
    "wrong credentials": ' -H "Authorization: Bearer wrong"',
    "another scheme": ' -H "Authorization: Basic d3Jvbmc6d3Jvbmc="',
}
U = "$AGNO_URL/workflows/offline-pipeline"

# A finished run to read: start one (stream=false waits for it), then GET it with its session.
READ_A_RUN = (
    f'R=$(curl -sS{{auth}} -X POST "{U}/runs" -d message=hello -d stream=false)\n'
    f'curl -sS -i{{auth}} "{U}/runs/$(echo "$R" | jq -r .run_id)'
    '?session_id=$(echo "$R" | jq -r .session_id)"'
)


@dataclass(frozen=True)
class Note:
    """One verified kind of finding: which check, which keys, why, and curl per operation."""

    check: str
    key: str  # a regular expression the finding's key must match in full
    title: str
    why: str
    by_hand: dict[str, str]  # operation -> curl line(s); {auth} is the bearer header or ""

    def matches(self, finding: dict[str, Any]) -> bool:
        return (
            finding["check"] == self.check
            and finding["operation"] in self.by_hand
            and re.fullmatch(self.key, finding["key"]) is not None
        )


NOTES: tuple[Note, ...] = (
    Note(
        check="no_server_error",
        key="500",
        title="An empty `session_id` crashes the run read (500)",
        why=(
            "`session_id` is an optional string, so `?session_id=` is a valid request. Agno "
            "answers 500 `Internal server error (Exception)` and logs `Exception: No session_id "
            "provided`. The contract declares 500, but the suite reports every 5xx: the request "
            "was valid and the server failed on it."
        ),
        by_hand={READ: f'curl -sS -i{{auth}} "{U}/runs/any-run-id?session_id="'},
    ),
    Note(
        check="declared_schema",
        key=r"200:.*",
        title="A run is not a `WorkflowRunResponse`",
        why=(
            "The contract's `WorkflowRunResponse` requires twelve fields, `created_at` and "
            "`updated_at` as date-time strings. Agno answers its own run object: `steps`, "
            "`updated_at` and `finished_at` do not exist (the steps are `step_results`, of "
            "another shape), `user_id`, `content` and `error` are left out while empty, and "
            "`created_at` is an integer (Unix seconds)."
        ),
        by_hand={
            START: f'curl -sS -i{{auth}} -X POST "{U}/runs" -d message=hello -d stream=false',
            READ: READ_A_RUN,
        },
    ),
    Note(
        check="declared_status",
        key="422",
        title="Reading a run without `session_id` is an undeclared 422",
        why=(
            "The contract makes `session_id` optional and declares 200, 401, 404 and 500 for "
            "this operation. Agno requires it and answers 422 with FastAPI's validation list."
        ),
        by_hand={READ: f'curl -sS -i{{auth}} "{U}/runs/any-run-id"'},
    ),
    Note(
        check="declared_schema",
        key=r"422:.*",
        title="The 422 body is FastAPI's list, not `ValidationErrorResponse`",
        why=(
            "The contract's `ValidationErrorResponse` has `detail` as a string (and an optional "
            "`error_code`). Agno answers FastAPI's default: `detail` is a list of error objects."
        ),
        by_hand={START: f'curl -sS -i{{auth}} -X POST "{U}/runs"'},
    ),
    Note(
        check="stream_ends_on_link",
        key=r"CancelStreamingRun:WorkflowCompleted",
        title="A cancelled run's stream goes on after `WorkflowCancelled`",
        why=(
            "The contract's `CancelStreamingRun` link (`x-contract-ends-stream`) says that "
            "cancelling a run while its stream is open ends the stream with `WorkflowCancelled`. "
            "Agno answers the cancel 200 and sends `WorkflowCancelled`, but then sends "
            "`WorkflowCompleted` as the stream's last event, so a client that reads the last "
            "event (as Agno's own `AgentOSClient` does) reports a cancelled run as completed "
            "(compare agno issue 10390)."
        ),
        by_hand={
            START: (
                f'curl -sN{{auth}} -X POST "{U}/runs" -d message=hello -d stream=true '
                "> stream.txt &\n"
                'sleep 1.5; RUN=$(grep -o \'"run_id": *"[^"]*"\' stream.txt | head -1 '
                "| cut -d'\"' -f4)\n"
                f'curl -sS{{auth}} -X POST "{U}/runs/$RUN/cancel"; sleep 5; grep ^event: stream.txt'
            )
        },
    ),
    Note(
        check="auth_required",
        key=r"(no credentials|wrong credentials|another scheme)",
        title="Missing or wrong credentials answered 2xx instead of 401",
        why=(
            "Every operation requires `HTTPBearer`. Without `OS_SECURITY_KEY` AgentOS installs "
            "no authentication at all: a request without an `Authorization` header, with a "
            "wrong (or empty) bearer token, or with another scheme is served."
        ),
        by_hand={
            LIST: 'curl -sS -i{cred} "$AGNO_URL/workflows"',
            START: f'curl -sS -i{{cred}} -X POST "{U}/runs" -d message=hello -d stream=false',
            READ: READ_A_RUN.replace("{auth}", "{cred}"),
            CANCEL: f'curl -sS -i{{cred}} -X POST "{U}/runs/any-run-id/cancel"',
        },
    ),
    Note(
        check="auth_required",
        key=r"(no credentials|wrong credentials|another scheme):404",
        title="Missing or wrong credentials on a missing resource: 404 instead of 401",
        why=(
            "Same root cause: with no authentication, the request reaches the handler, which "
            "answers 404 for an unknown workflow, session or run."
        ),
        by_hand={
            START: (
                'curl -sS -i{cred} -X POST "$AGNO_URL/workflows/no-such-workflow/runs" '
                "-d message=hello -d stream=false"
            ),
            READ: f'curl -sS -i{{cred}} "{U}/runs/any-run-id?session_id=any-session"',
            CANCEL: (
                "curl -sS -i{cred} -X POST "
                '"$AGNO_URL/workflows/no-such-workflow/runs/any-run-id/cancel"'
            ),
        },
    ),
    Note(
        check="auth_required",
        key=r"(no credentials|wrong credentials|another scheme):422",
        title="Missing or wrong credentials on an otherwise valid request: 422 instead of 401",
        why=(
            "Same root cause: the request reaches Agno's validation, which rejects what the "
            "contract allows (a missing `session_id` on the read; an empty `message`, which "
            "FastAPI treats as absent, on the start)."
        ),
        by_hand={
            START: (
                f"curl -sS -i{{cred}} -X POST \"{U}/runs\" --data-binary 'message=&stream=false'"
            ),
            READ: f'curl -sS -i{{cred}} "{U}/runs/any-run-id"',
        },
    ),
    Note(
        check="invalid_request_rejected",
        key=r".*HEADER:Authorization",
        title="A request without the required `Authorization` accepted (same fact as above)",
        why=(
            "Schemathesis models the bearer requirement as a required `Authorization` header "
            "and its negative phase leaves it out; the open server answers 2xx. This is the "
            "same request and the same violation as `auth_required` / no credentials, reported "
            "a second time by the negative-data check."
        ),
        by_hand={
            LIST: 'curl -sS -i "$AGNO_URL/workflows"',
            START: f'curl -sS -i -X POST "{U}/runs" -d message=hello -d stream=false',
            READ: READ_A_RUN.replace("{auth}", ""),
            CANCEL: f'curl -sS -i -X POST "{U}/runs/any-run-id/cancel"',
        },
    ),
)

OBSERVATIONS = (
    "Cancelling a run id that does not exist answers `200 {}` (Agno stores the cancellation "
    "intent for runs it has not seen); the contract declares 404 for `Workflow or run not "
    "found` but does not forbid the 200, so this is no finding.",
    "Cancellation is cooperative: a cancel lands while the slow step runs and the run ends "
    "`CANCELLED` before the next step. Agno calls a synchronous step on its event loop, so a "
    "blocking step (`time.sleep`) would hold every other request, a cancel included, until it "
    "ends; that is why the example's slow step is `async`.",
    "With a key set, every 401 (no credentials, another scheme, a wrong token) has the declared "
    "body (`detail` string): the keyed server passes `auth_required` on all four operations.",
)


@dataclass
class Entry:
    """One finding identity (check, operation, key) within one server mode, across runs."""

    finding: dict[str, Any]
    runs: list[str] = field(default_factory=list)
    occurrences: int = 0


def load(reports: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    meta = json.loads((reports / "runs.json").read_text(encoding="utf-8"))
    data = {}
    for run in meta["runs"]:
        data[run["name"]] = json.loads(
            (reports / run["report"] / "report.json").read_text(encoding="utf-8")
        )
    return meta, data


def local_curl(finding: dict[str, Any], base_url: str) -> str:
    return str(finding.get("curl", "")).replace(base_url, DOC_URL)


def excerpt(finding: dict[str, Any]) -> str:
    response = finding.get("response")
    if not response:
        return "no response"
    text = str(response.get("excerpt") or "(empty body)")
    if len(text) > EXCERPT:
        text = text[:EXCERPT] + " …"
    return text


def group(meta: dict[str, Any], data: dict[str, dict[str, Any]], keyed: bool) -> list[Entry]:
    entries: dict[tuple[str, str, str], Entry] = {}
    for run in meta["runs"]:
        if run["keyed"] != keyed:
            continue
        report = data[run["name"]]
        for finding in report["findings"]:
            identity = (finding["check"], finding["operation"], finding["key"])
            entry = entries.get(identity)
            if entry is None:
                finding = {**finding, "curl": local_curl(finding, report["base_url"])}
                entry = entries[identity] = Entry(finding)
            entry.runs.append(run["name"])
            entry.occurrences += int(finding.get("occurrences", 1))
    return list(entries.values())


def by_hand_line(note: Note, finding: dict[str, Any], keyed: bool) -> str:
    """The note's curl line(s) for this operation, with this finding's credentials."""
    attempt = str(finding["key"]).split(":")[0]
    line = note.by_hand[finding["operation"]].replace("{cred}", CREDENTIALS.get(attempt, ""))
    return line.replace("{auth}", AUTH if keyed else "")


def note_for(finding: dict[str, Any]) -> Note | None:
    return next((note for note in NOTES if note.matches(finding)), None)


def fence(text: str, info: str = "") -> list[str]:
    return [f"~~~{info}", *text.splitlines(), "~~~"]


def render_entry(entry: Entry, note: Note | None, keyed: bool) -> list[str]:
    finding = entry.finding
    times = f"{entry.occurrences}×" if entry.occurrences > 1 else "once"
    lines = [
        f"- **`{finding['operation']}`**: {finding['message'].splitlines()[0]}"
        f" ({finding['severity']}; seen {times} in {', '.join(entry.runs)}; "
        f"first in phase {finding['phase']})",
        "",
        "  The suite's request and Agno's answer:",
        "",
    ]
    body = [*fence(finding["curl"], "sh")]
    response = finding.get("response") or {}
    status = response.get("status", "none")
    content_type = response.get("content_type") or "no Content-Type"
    body += ["", f"`{status}` `{content_type}`", ""]
    body += fence(excerpt(finding))
    if note is not None:
        by_hand = by_hand_line(note, finding, keyed)
        body += ["", "By hand, on a fresh server:", "", *fence(by_hand, "sh")]
    lines += [f"  {line}" if line else "" for line in body]
    lines.append("")
    return lines


def render_findings(entries: list[Entry], keyed: bool) -> tuple[list[str], list[Entry]]:
    lines: list[str] = []
    unverified = [e for e in entries if note_for(e.finding) is None]
    for number, note in enumerate(
        [n for n in NOTES if any(note_for(e.finding) is n for e in entries)], 1
    ):
        mine = [e for e in entries if note_for(e.finding) is note]
        lines += [f"#### {number}. `{note.check}`: {note.title}", "", note.why, ""]
        for entry in sorted(mine, key=lambda e: e.finding["operation"]):
            lines += render_entry(entry, note, keyed)
    if unverified:
        lines += ["#### Not verified by hand", ""]
        for entry in unverified:
            lines += render_entry(entry, None, keyed)
    if not entries:
        lines += ["None.", ""]
    return lines, unverified


def passing(report: dict[str, Any]) -> list[str]:
    failed: dict[str, set[str]] = {}
    for finding in report["findings"]:
        failed.setdefault(finding["operation"], set()).add(finding["check"])
    checks = [c for c in report["checks"]]
    lines = []
    for row in report["coverage"]:
        operation = row["operation"]
        bad = failed.get(operation, set())
        good = [c for c in checks if c not in bad]
        if not bad:
            lines.append(f"- `{operation}`: passes all {len(checks)} checks")
        else:
            lines.append(
                f"- `{operation}`: passes {', '.join(f'`{c}`' for c in good)}; "
                f"fails {', '.join(f'`{c}`' for c in checks if c in bad)}"
            )
    return lines


def coverage_table(report: dict[str, Any]) -> list[str]:
    keys = sorted(
        {k for row in report["coverage"] for k in row["declared"]},
        key=lambda k: (k == "default", k),
    )
    lines = [
        "| operation | " + " | ".join(keys) + " | undeclared |",
        "| --- |" + " ---: |" * len(keys) + " --- |",
    ]
    for row in report["coverage"]:
        cells = []
        for key in keys:
            if key not in row["declared"]:
                cells.append("")
            else:
                seen = row["seen"].get(key, 0)
                cells.append(str(seen) if seen else "never")
        undeclared = ", ".join(f"{s} ×{n}" for s, n in row["undeclared_seen"].items())
        lines.append(f"| `{row['operation']}` | " + " | ".join(cells) + f" | {undeclared} |")
    return lines


def contract_label(path: str) -> str:
    return "seed contract" if "shared/contracts" in path else "grown contract"


def render(meta: dict[str, Any], data: dict[str, dict[str, Any]]) -> tuple[str, list[Entry]]:
    runs = meta["runs"]
    lines = [
        "# Agno's AgentOS against our contracts",
        "",
        "<!-- Generated by examples/agno/make_doc.py from the reports of `make conform-agno`;"
        " edit the generator, not this file. -->",
        "",
        f"The server under test is Agno's own AgentOS (`{meta['agno']}`), run offline by "
        "[`examples/agno/app.py`](../../examples/agno/app.py): one workflow "
        f"(`{meta['workflow_id']}`) of three plain Python function steps, the second one slow "
        f"({meta['slow_seconds']:g} s), no model, no API key, `SqliteDb` in a temporary folder, "
        "telemetry off, served by uvicorn on 127.0.0.1. It is checked twice: with "
        "`OS_SECURITY_KEY` set (keyed) and without (open).",
        "",
        "Each server is checked against the seed contract "
        "(`shared/contracts/agentos-cancel-workflow-run.yaml`: the cancel operation) and against "
        "the grown contract (`spec/agentos.yaml`: list, start, read, cancel, with links for the "
        "stateful start → read/cancel flow), by `contract conform --param "
        f"path.workflow_id={meta['workflow_id']} --max-examples {meta['max_examples']} "
        f"--seed {meta['seed']}`. Every finding below was reproduced by hand with curl.",
        "",
        "## Verdicts",
        "",
        "| server | contract | verdict | findings | requests | phases |",
        "| --- | --- | --- | ---: | ---: | --- |",
    ]
    for run in runs:
        report = data[run["name"]]
        server = "keyed" if run["keyed"] else "open"
        lines.append(
            f"| {server} | {contract_label(run['contract'])} (`{run['contract']}`) | "
            f"**{report['verdict']}** | {len(report['findings'])} | {report['requests']} | "
            f"{', '.join(report['phases'])} |"
        )
    stored = meta.get("stored_runs") or {}
    if stored:
        lines += ["", "Runs the servers stored (read from their SQLite files afterwards):", ""]
        for mode, counts in stored.items():
            shown = ", ".join(f"{n} {status}" for status, n in counts.items()) or "none"
            lines.append(f"- {mode} server: {sum(counts.values())} ({shown})")
        if any(counts.get("CANCELLED") for counts in stored.values()):
            lines += [
                "",
                "A CANCELLED run was started in the background (202) and cancelled during its "
                "slow step with the run id the start answered: the stateful phase following "
                "the `CancelWorkflowRun` link.",
            ]
    lines += ["", "## Findings in short", ""]
    for keyed in (True, False):
        entries = group(meta, data, keyed)
        server = "Keyed server" if keyed else "Open server"
        lines.append(f"{server}:" if entries else f"{server}: none.")
        lines.append("")
        for note in NOTES:
            operations = sorted(
                {e.finding["operation"] for e in entries if note_for(e.finding) is note}
            )
            if operations:
                shown = ", ".join(f"`{op}`" for op in operations)
                lines.append(f"- `{note.check}` on {shown}: {note.title}")
        unexplained = [e for e in entries if note_for(e.finding) is None]
        for entry in unexplained:
            f = entry.finding
            lines.append(f"- `{f['check']}` on `{f['operation']}`: not verified by hand")
        lines.append("")
    lines += ["## What conforms", ""]
    for run in runs:
        report = data[run["name"]]
        server = "keyed" if run["keyed"] else "open"
        lines += [f"### {contract_label(run['contract'])}, {server} server", ""]
        lines += passing(report)
        lines += ["", "Responses seen per declared status:", ""]
        lines += coverage_table(report)
        lines.append("")
    lines += [
        "## What does not conform",
        "",
        "Each finding is shown once per server, with the runs it was seen in. To replay the "
        "curl lines, serve the example (`make conform-agno` builds its virtual environment) "
        "and point them at it:",
        "",
        "~~~sh",
        "OS_SECURITY_KEY=some-key examples/agno/.venv/bin/python examples/agno/serve.py &"
        "   # leave out the key for the open server",
        f"export AGNO_URL={DOC_URL} CONTRACT_TOKEN=some-key",
        "~~~",
        "",
        'The suite\'s requests name runs and sessions of the server it checked; the "by hand" '
        "lines work on a fresh one (they use `jq`).",
        "",
    ]
    unverified: list[Entry] = []
    for keyed in (True, False):
        title = "Keyed server (`OS_SECURITY_KEY` set)" if keyed else "Open server (no key)"
        lines += [f"### {title}", ""]
        body, missing = render_findings(group(meta, data, keyed), keyed)
        lines += body
        unverified += missing
    lines += ["## Observations that are not findings", ""]
    lines += [f"- {text}" for text in OBSERVATIONS]
    lines += [
        "",
        "## Reproduce",
        "",
        "~~~sh",
        "make conform-agno   # agno venv, both servers, four runs, reports/agno/, this file",
        "~~~",
        "",
    ]
    return "\n".join(lines), unverified


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", type=Path, nargs="?", default=REPO / "reports" / "agno")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "third-party" / "agno.md")
    parser.add_argument("--strict", action="store_true", help="exit 1 on an unverified finding")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        meta, data = load(args.reports)
    except (OSError, ValueError, KeyError) as exc:
        print(f"make_doc: cannot read the reports in {args.reports}: {exc}", file=sys.stderr)
        return 2
    text, unverified = render(meta, data)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    for entry in unverified:
        f = entry.finding
        print(f"make_doc: not verified by hand: {f['check']} {f['operation']} {f['key']}")
    return 1 if unverified and args.strict else 0


if __name__ == "__main__":
    raise SystemExit(main())
