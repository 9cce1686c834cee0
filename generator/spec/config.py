"""`[tool.contract]` defaults from pyproject.toml, typed."""

from __future__ import annotations

import difflib
import keyword
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from generator.spec.errors import UsageError

# The one name of the variable that carries a bearer token to `serve` and `conform`.
TOKEN_VARIABLE = "CONTRACT_TOKEN"  # noqa: S105 - a variable name, not a secret


def configured_token(flag: str | None) -> str | None:
    """The --token value, else $CONTRACT_TOKEN, stripped; None when neither is set."""
    for candidate in (flag, os.environ.get(TOKEN_VARIABLE)):
        if candidate and candidate.strip():
            return candidate.strip()
    return None


@dataclass(frozen=True, slots=True)
class Config:
    spec: Path
    out: Path
    package: str
    # Whether a pyproject.toml's [tool.contract] said so, or these are the built-in defaults.
    from_project: bool = False
    # Generation renames later duplicate operationIds instead of refusing them.
    rename_duplicate_operation_ids: bool = False


KEYS = frozenset({"spec", "out", "package", "rename_duplicate_operation_ids"})
DEFAULTS = Config(
    spec=Path("spec/agentos.yaml"), out=Path("generated/agentos"), package="generated.agentos"
)


def load_config(start: Path | None = None) -> Config:
    """The nearest pyproject.toml's `[tool.contract]`, with paths relative to that file."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            return _read(pyproject)
    return DEFAULTS


def _read(pyproject: Path) -> Config:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{pyproject}: cannot read [tool.contract]: {exc}") from None
    section = data.get("tool", {}).get("contract", {})
    if not isinstance(section, dict):
        raise UsageError(f"{pyproject}: [tool.contract] must be a table")
    unknown = sorted(set(section) - KEYS)
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(key, sorted(KEYS), n=1)
        hint = (
            f" (did you mean {close[0]!r}?)"
            if close
            else f"; known keys: {', '.join(sorted(KEYS))}"
        )
        raise UsageError(f"{pyproject}: [tool.contract] has no key {key!r}{hint}")
    root = pyproject.parent

    def path(key: str, default: Path) -> Path:
        value = section.get(key)
        return root / value if isinstance(value, str) else root / default

    package = section.get("package")
    rename = section.get("rename_duplicate_operation_ids", False)
    if not isinstance(rename, bool):
        raise UsageError(
            f"{pyproject}: [tool.contract] rename_duplicate_operation_ids must be true or false"
        )
    return Config(
        spec=path("spec", DEFAULTS.spec),
        out=path("out", DEFAULTS.out),
        package=package if isinstance(package, str) else DEFAULTS.package,
        from_project=bool(section),
        rename_duplicate_operation_ids=rename,
    )


def output_for(spec: Path, config: Config) -> tuple[Path, str]:
    """Where `generate SPEC` writes without --out, and the package's import name.

    The project's [tool.contract] output is for the project's spec only: another spec gets a
    folder of its own, named after it, in the current folder (never the project's package).
    """
    if config.from_project and spec.resolve() == config.spec.resolve():
        return config.out, config.package
    stem = spec.name
    for suffix in (".gz", ".json", ".yaml", ".yml"):
        stem = stem.removesuffix(suffix)
    name = re.sub(r"[^0-9A-Za-z_]+", "_", stem).strip("_").lower() or "api"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = f"api_{name}"
    return Path(name), name


def package_for(out: Path) -> str:
    """The import name a package written to `out` gets when none is configured."""
    return out.name
