"""Round-trip rate on the real-world corpus: ours against fastapi-code-generator 0.8.1's.

    python benchmarks/corpus.py [--only GLOB] [--timeout SECONDS] [--rev REV]

A document round-trips when the generated code imports, builds its FastAPI app, and the app's
routes have the same paths, methods, parameters (name, location, required) and declared status
codes as the document (tests/support/roundtrip.py). Each generation and each import runs in its
own child process with a timeout; a timeout is a failure. Per-document reasons are written to
benchmarks/results/corpus.md. Ours runs from the working tree, or with --rev from that commit's
generator/ and tests/ (others may be editing the tree while this runs). Not part of `make test`.

Only the standard library is imported at the top: the same file runs in the peers' virtual
environment (`--peer-surface DIR`) to read the routes of the app fastapi-code-generator wrote.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
REAL = REPO.parent / "shared" / "corpus" / "real"
RESULTS = BENCH / "results"
# Headers the framework handles itself, as in tests/support/roundtrip.py.
IGNORED_HEADERS = {"accept", "content-type", "authorization"}
_TEMPLATE = re.compile(r"{[^{}]+}")

Row = dict[str, Any]  # one served operation: path, method, parameters, statuses


# --- children ------------------------------------------------------------------------------------


def _status(code: object) -> str:
    text = str(code)
    return text.upper() if text[:1].isdigit() else "default"


def ours_surface(document: Path, work: Path, package: str, source: Path) -> list[Row]:
    """generate_package + write_package, import, create_app() (scaffold), and its routes."""
    sys.path.insert(0, str(source))
    from generator.codegen.output import write_package
    from generator.codegen.pipeline import generate_package
    from tests.support.roundtrip import app_surface

    write_package(work / package, generate_package(document, package))
    sys.path.insert(0, str(work))
    app = importlib.import_module(package).create_app()
    return [
        {
            "path": p,
            "method": m,
            "parameters": sorted(v["parameters"]),
            "statuses": sorted(v["statuses"]),
        }
        for (p, m), v in app_surface(app).items()
    ]


def peer_surface(out: Path) -> list[Row]:
    """Import fastapi-code-generator's main.py and read what its app routes and declares."""
    from fastapi.openapi.utils import get_openapi
    from fastapi.routing import APIRoute

    sys.path.insert(0, str(out.parent))
    app = importlib.import_module(f"{out.name}.main").app
    routes = {
        (route.path_format, method): route
        for route in app.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    derived = get_openapi(title="derived", version="0", routes=app.routes)
    rows = []
    for path, item in derived.get("paths", {}).items():
        for method, operation in item.items():
            route = routes[(path, method.upper())]
            parameters = sorted(
                (p["name"], p["in"], bool(p.get("required")))
                for p in operation.get("parameters", [])
                if not (p["in"] == "header" and p["name"].lower() in IGNORED_HEADERS)
            )
            statuses = {_status(code) for code in operation.get("responses", {})}
            # FastAPI adds 422 by itself to any route with parameters; not the generator's doing.
            if (
                "422" not in {_status(code) for code in route.responses}
                and route.status_code != 422
            ):
                statuses.discard("422")
            rows.append(
                {
                    "path": path,
                    "method": method.upper(),
                    "parameters": parameters,
                    "statuses": sorted(statuses),
                }
            )
    return rows


def _child_main(mode: str, args: list[str]) -> int:
    try:
        if mode == "--ours":
            rows = ours_surface(Path(args[0]), Path(args[1]), args[2], Path(args[3]))
        else:
            rows = peer_surface(Path(args[0]))
        print(json.dumps({"rows": rows}))
    except BaseException as exc:  # anything at all is a reason to report
        if isinstance(exc, KeyboardInterrupt):
            raise
        # Ours refuses with generator.errors.ContractError; anything else is a crash.
        refusal = any(k.__name__ == "ContractError" for k in type(exc).__mro__)
        kind = "refused" if refusal else "error"
        lines = getattr(exc, "lines", None)
        message = lines()[0] if callable(lines) else str(exc)
        print(json.dumps({kind: f"{type(exc).__name__}: {message}"}))
    return 0


# --- the comparison ------------------------------------------------------------------------------


def _skeleton(path: str) -> str:
    return _TEMPLATE.sub("{}", path)


def _surface(rows: list[Row], declared: dict[tuple[str, str], Any]) -> dict[tuple[str, str], Any]:
    """Rows as a roundtrip.Surface. Path-parameter names are not on the wire: a served path that
    differs from a declared one only in them is matched to it, its path parameters renamed."""
    by_skeleton: dict[str, set[str]] = {}
    for path, _ in declared:
        by_skeleton.setdefault(_skeleton(path), set()).add(path)
    surface = {}
    for row in rows:
        path, parameters = row["path"], [tuple(p) for p in row["parameters"]]
        candidates = by_skeleton.get(_skeleton(path), set())
        if path not in candidates and len(candidates) == 1:
            wire = next(iter(candidates))
            renamed = {
                a[1:-1]: b[1:-1]
                for a, b in zip(_TEMPLATE.findall(path), _TEMPLATE.findall(wire), strict=True)
            }
            parameters = [(renamed.get(n, n) if i == "path" else n, i, r) for n, i, r in parameters]
            path = wire
        surface[(path, row["method"])] = {
            "parameters": set(parameters),
            "statuses": set(row["statuses"]),
        }
    return surface


def _run(cmd: list[str], timeout: float) -> tuple[str | None, str]:
    """(failure reason or None, stdout)."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout:.0f} s", ""
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        return f"exit {done.returncode}: {lines[-1].strip() if lines else ''}", done.stdout
    return None, done.stdout


def _verdict(outcome: tuple[str | None, str], declared: dict[tuple[str, str], Any] | None) -> str:
    """'' when the document round-trips, else one short reason."""
    failure, stdout = outcome
    if failure:
        return failure
    try:
        answer = json.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return f"no answer from the child: {stdout[-200:]!r}"
    if "rows" not in answer:
        return next(f"{kind}: {text}" for kind, text in answer.items())
    if declared is None:
        return "the document itself cannot be read"
    from tests.support.roundtrip import differences

    served = _surface(answer["rows"], declared)
    problems = differences(declared, served)
    if not problems:
        return ""
    return f"{len(problems)} differences, first: {_first_difference(declared, served)}"


def _first_difference(
    declared: dict[tuple[str, str], Any], served: dict[tuple[str, str], Any]
) -> str:
    """What differs, before where (paths are long)."""
    for path, method in sorted(set(declared) - set(served)):
        return f"operation not served: {method} {path}"
    for path, method in sorted(set(served) - set(declared)):
        return f"operation not declared: {method} {path}"
    for key in sorted(set(declared) & set(served)):
        for aspect in ("parameters", "statuses"):
            wanted, got = declared[key][aspect], served[key][aspect]
            if wanted != got:
                parts = [f"not served {sorted(wanted - got)}"] * bool(wanted - got)
                parts += [f"not declared {sorted(got - wanted)}"] * bool(got - wanted)
                return f"{aspect} {'; '.join(parts)} at {key[1]} {key[0]}"
    return "?"


def _mark(reason: str) -> str:
    return "FAIL" if reason else "ok"


def _short(text: str, width: int = 200) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 1] + "…"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="*.json", help="glob of documents in real/ to run")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per child process")
    parser.add_argument("--rev", help="measure our generator as committed at REV (e.g. HEAD)")
    args = parser.parse_args(argv)

    from _bench import describe_source, ensure_peer_venv, snapshot

    work = Path(tempfile.mkdtemp(prefix="bench-corpus-"))
    source = REPO if args.rev is None else snapshot(args.rev, work / "source")
    sys.path.insert(0, str(source))
    from generator.spec.errors import ContractError
    from generator.spec.loader import load_spec
    from tests.support.roundtrip import spec_surface

    peer_python = ensure_peer_venv()
    fastapi_codegen = peer_python.parent / "fastapi-codegen"
    documents = sorted(REAL.glob(args.only))
    load = os.getloadavg()
    print(describe_source(args.rev))
    print(f"{len(documents)} documents from {REAL}; load average {load[0]:.2f} {load[1]:.2f}")
    started = time.perf_counter()
    table = []
    try:
        for index, document in enumerate(documents):
            try:
                declared = spec_surface(load_spec(document).document)
            except ContractError:
                declared = None
            ours = _verdict(
                _run(
                    [
                        sys.executable,
                        __file__,
                        "--ours",
                        str(document),
                        str(work / "ours"),
                        f"corpus_{index}",
                        str(source),
                    ],
                    args.timeout,
                ),
                declared,
            )
            out = work / "peer" / f"peer_{index}"
            generation = _run(
                [
                    str(fastapi_codegen),
                    "--input",
                    str(document),
                    "--output",
                    str(out),
                    "--no-allow-remote-refs",
                ],
                args.timeout,
            )
            if generation[0]:
                peer = f"generation {generation[0]}"
            else:
                peer = _verdict(
                    _run([str(peer_python), __file__, "--peer-surface", str(out)], args.timeout),
                    declared,
                )
            table.append((document.name, ours, peer))
            print(
                f"[{index + 1:2}/{len(documents)}] ours {_mark(ours):4} peer {_mark(peer):4} "
                f"{document.name}",
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - started
    load = os.getloadavg()

    total = len(table)
    ours_ok = sum(1 for _, ours, _ in table if not ours)
    peer_ok = sum(1 for _, _, peer in table if not peer)
    ratio = f"{ours_ok / peer_ok:.2f}x" if peer_ok else "n/a (peer round-trips none)"
    summary = [
        describe_source(args.rev),
        f"ours round-trips {ours_ok}/{total} ({ours_ok / total:.1%})",
        f"fastapi-code-generator 0.8.1 round-trips {peer_ok}/{total} ({peer_ok / total:.1%})",
        f"ratio ours / peer: {ratio}",
        f"{elapsed:.0f} s; load average after {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
    ]
    lines = ["# Round trip on shared/corpus/real", "", *(f"- {s}" for s in summary), ""]
    lines += ["| document | ours | fastapi-code-generator 0.8.1 |", "| --- | --- | --- |"]
    for name, ours, peer in table:
        if ours or peer:
            lines.append(f"| {name} | {_short(ours) or 'ok'} | {_short(peer) or 'ok'} |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = RESULTS / "corpus.md"
    report.write_text("\n".join(lines) + "\n")
    print("\n".join(["", *summary]))
    for name, ours, _ in table:
        if ours:
            print(f"ours fails on {name}: {_short(ours)}")
    print(f"per-document failures: {report.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("--ours", "--peer-surface"):
        sys.exit(_child_main(sys.argv[1], sys.argv[2:]))
    sys.exit(main())
