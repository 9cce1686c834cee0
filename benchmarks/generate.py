"""Generation speed and memory on GitHub's REST API description, against peers in the same run.

    python benchmarks/generate.py [--spec PATH.json.gz] [--keep DIR] [--rev REV]

Runs, one after another, each in a fresh child process:
  (a) ours, cold: `contract generate SPEC --out NEW_DIR --force`
  (b) ours, unchanged spec into the same folder (the manifest lets it skip; target <= 1 s)
  (b') ours, the same spec with one schema edited (a property added to `simple-user`), into
       that folder: what a team pays for a typical spec change (target <= 5 s)
  (c) fastapi-code-generator 0.8.1 (own virtual environment, benchmarks/.venv-peers)
  (d) datamodel-code-generator, default options, models only (the version our project pins)
and prints wall time, peak memory and the ratios. Ours runs from the working tree, or with
--rev from that commit's generator/ (others may be editing the tree while this runs).
Not part of `make test`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from _bench import (
    REPO,
    RESULTS,
    Measurement,
    describe_source,
    ensure_peer_venv,
    measure,
    snapshot,
)

from generator.launch import contract_command

DEFAULT_SPEC = REPO.parent / "shared" / "corpus" / "large" / "api.github.com.json.gz"
OUR_BIN = Path(sys.executable).parent
COLD = "ours, cold"
UNCHANGED = "ours, unchanged spec"
EDITED = "ours, one schema edited"
EDITED_SCHEMA = "simple-user"
FCG = "fastapi-code-generator 0.8.1"
DMCG = "datamodel-code-generator 0.89.0 default"


def _output_size(path: Path) -> tuple[int, int]:
    """Python files and their lines under `path` (what a tool produced)."""
    files = [path] if path.is_file() else sorted(path.rglob("*.py")) if path.is_dir() else []
    lines = sum(f.read_bytes().count(b"\n") for f in files)
    return len(files), lines


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for at, line in enumerate(lines[:-1]):  # black's parse error: show the code it choked on
        if line.startswith("InvalidInput:"):
            return f"{line[:60]} `{lines[at + 1]}`"
    return lines[-1][:110] if lines else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="a .json.gz description")
    parser.add_argument("--keep", type=Path, help="leave every tool's output in this folder")
    parser.add_argument("--rev", help="measure our generator as committed at REV (e.g. HEAD)")
    args = parser.parse_args(argv)

    peer_python = ensure_peer_venv()
    fastapi_codegen = peer_python.parent / "fastapi-codegen"
    datamodel_codegen = OUR_BIN / "datamodel-codegen"
    contract = OUR_BIN / "contract"
    work = Path(tempfile.mkdtemp(prefix="bench-generate-", dir=args.keep))
    plain = work / args.spec.name.removesuffix(".gz")
    with gzip.open(args.spec, "rb") as packed, plain.open("wb") as unpacked:
        shutil.copyfileobj(packed, unpacked)
    env = None
    if args.rev is not None:
        source = snapshot(args.rev, work / "source")
        env = {**os.environ, "PYTHONPATH": str(source)}
        contract_cmd = contract_command()
    else:
        contract_cmd = [str(contract)]
    ours_plain = work / "ours-json" / "github_api"
    edited = work / "edited" / plain.name
    edited.parent.mkdir()
    document = json.loads(plain.read_text("utf-8"))
    properties = document["components"]["schemas"][EDITED_SCHEMA]["properties"]
    properties["pronouns"] = {"type": "string", "description": "Added by the benchmark"}
    edited.write_text(json.dumps(document), "utf-8")
    ours_gz = work / "ours-gz" / "github_api"

    load = os.getloadavg()
    print(f"spec: {args.spec} ({plain.stat().st_size / 1e6:.1f} MB unpacked)")
    print(describe_source(args.rev))
    print(
        f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; cores: {os.cpu_count()}"
    )

    def ours(spec: Path, out: Path, *, cold: bool) -> list[str]:
        # Cold: a fresh folder, no manifest to skip by. Unchanged: no --force, since --force
        # always rewrites; without it an unchanged spec is only a manifest check.
        assert not out.exists()
        return [*contract_cmd, "generate", str(spec), "--out", str(out)] + ["--force"] * cold

    runs: list[tuple[str, list[str], Path]] = [
        (COLD, ours(plain, ours_plain, cold=True), ours_plain),
        (UNCHANGED, ours(plain, ours_plain, cold=False), ours_plain),
        (EDITED, [*contract_cmd, "generate", str(edited), "--out", str(ours_plain)], ours_plain),
        (f"{COLD} (.json.gz input)", ours(args.spec, ours_gz, cold=True), ours_gz),
        (f"{UNCHANGED} (.json.gz)", ours(args.spec, ours_gz, cold=False), ours_gz),
        (
            FCG,
            [str(fastapi_codegen), "--input", str(plain), "--output", str(work / "fcg")],
            work / "fcg",
        ),
        (
            DMCG,
            [
                str(datamodel_codegen),
                "--input",
                str(plain),
                "--input-file-type",
                "openapi",
                "--output",
                str(work / "dmcg" / "models.py"),
            ],
            work / "dmcg" / "models.py",
        ),
    ]
    (work / "dmcg").mkdir()
    results: dict[str, Measurement] = {}
    verdicts: dict[str, str] = {}
    for label, cmd, output in runs:
        print(f"running {label} ...", flush=True)
        results[label] = m = measure(cmd, cwd=work, env=env if label.startswith("ours") else None)
        files, lines = _output_size(output)
        verdict = "yes" if m.ok else f"no (exit {m.returncode}): {_last_line(m.stderr)}"
        if label.startswith(UNCHANGED) and m.ok and "nothing written" not in m.stdout:
            verdict = f"no (did not skip): {_last_line(m.stdout)[:60]}"
        verdicts[label] = verdict
        print(
            f"  {m.wall:7.2f} s (cpu {m.cpu:6.1f} s)  max RSS {m.max_rss_mb:6.0f} MB"
            f"  tree PSS {m.tree_pss_mb:6.0f} MB"
            f"  {files} .py files, {lines} lines  success: {verdict}"
        )
    load = os.getloadavg()

    report = [
        describe_source(args.rev),
        f"{'run':42} {'wall s':>7} {'cpu s':>7} {'max RSS MB':>10} {'tree PSS MB':>11}  success",
    ]
    for label, m in results.items():
        report.append(
            f"{label:42} {m.wall:7.2f} {m.cpu:7.1f} {m.max_rss_mb:10.0f} {m.tree_pss_mb:11.0f}  "
            f"{verdicts[label][:70]}"
        )
    cold = results[COLD]
    report.append("")
    for label in (DMCG, FCG):
        peer = results[label]
        note = "" if peer.ok else "  (peer failed: time to failure)"
        report.append(
            f"ours cold / {label}: time {cold.wall / peer.wall:.2f}x, "
            f"cpu {cold.cpu / peer.cpu:.2f}x, "
            f"max RSS {cold.max_rss_mb / peer.max_rss_mb:.2f}x, "
            f"tree PSS {cold.tree_pss_mb / peer.tree_pss_mb:.2f}x{note}"
        )
    report.append(
        "max RSS: largest single process (getrusage RUSAGE_CHILDREN); "
        "tree PSS: whole process tree, sampled every 50 ms"
    )
    report.append(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("\n" + "\n".join(report))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "generate.txt").write_text("\n".join(report) + "\n")
    for label, m in results.items():
        if not m.ok:
            print(f"\n--- {label}: end of stderr ---\n{m.stderr[-1200:]}")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"outputs kept in {work}")
    return 0 if verdicts[COLD] == "yes" else 1


if __name__ == "__main__":
    sys.exit(main())
