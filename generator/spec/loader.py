"""Read a spec as untrusted input: size-limited, safe YAML only, no alias bombs, refs checked."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from generator.spec.bundle import Bundler
from generator.spec.errors import Diagnostic, UnreadableSpec, UnsupportedSpec
from generator.spec.pointers import MISSING, escape_pointer, resolve_pointer
from generator.spec.v32 import check_supported

MAX_SPEC_BYTES = 64 * 1024 * 1024
# Expanded node count of the YAML graph: aliases may share nodes, but a document that expands to
# more than this (the "billion laughs" pattern) is refused before it is ever built.
MAX_YAML_NODES = 5_000_000

MAX_DEPTH = 500

_YamlLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class LoadedSpec:
    path: Path
    document: dict[str, Any]
    sha256: str
    version: str  # the document's "openapi" field, e.g. "3.1.0"

    @property
    def name(self) -> str:
        return self.path.name


def load_spec(
    path: str | Path, *, allow_remote_refs: bool = False, max_bytes: int = MAX_SPEC_BYTES
) -> LoadedSpec:
    """Read, parse and sanity-check a spec; raise UnreadableSpec with one clear line on failure.

    External `$ref`s are inlined (files inside the spec's folder; http(s) only if allowed).
    """
    spec_path = Path(path)
    digest, raw = _read_bytes(spec_path, max_bytes)
    document = _parse(spec_path, _decode(spec_path, raw))
    version = _openapi_version(spec_path, document)
    bundler = Bundler(
        spec_path,
        _parse_referenced,
        allow_remote=allow_remote_refs,
        max_bytes=max_bytes,
        max_nodes=MAX_YAML_NODES,
    )
    document = bundler.bundle(document)
    check_refs(spec_path, document)
    if version.startswith("3.2"):
        check_supported(spec_path, document)
    return LoadedSpec(path=spec_path, document=document, sha256=digest, version=version)


def _parse_referenced(location: str, raw: bytes) -> Any:
    """A document another one refers to: same decoding, same safe parsing."""
    label = Path(location.split("?")[0])
    if len(raw) > 0 and not raw.strip():
        raise UnreadableSpec(f"{label.name}: the file is empty")
    return _parse(label, _decode(label, raw))


def _read_bytes(path: Path, max_bytes: int) -> tuple[str, bytes]:
    """The sha256 of the file as it is on disk, and its (decompressed) content."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise UnreadableSpec(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UnreadableSpec(f"{path}: is a directory, expected an OpenAPI file") from None
    except OSError as exc:
        raise UnreadableSpec(f"{path}: cannot read ({exc.strerror})") from None
    digest = hashlib.sha256(raw).hexdigest()
    if path.suffix == ".gz":
        try:
            raw = gzip.GzipFile(fileobj=io.BytesIO(raw)).read(max_bytes + 1)
        except (OSError, EOFError) as exc:
            raise UnreadableSpec(f"{path}: not a readable gzip file ({exc})") from None
    if len(raw) > max_bytes:
        raise UnreadableSpec(f"{path}: larger than the {max_bytes:,} bytes limit for a spec")
    if not raw.strip():
        raise UnreadableSpec(f"{path}: the file is empty")
    return digest, raw


def _decode(path: Path, raw: bytes) -> str:
    if b"\x00" in raw[:8192]:
        raise UnreadableSpec(f"{path}: binary file, expected an OpenAPI YAML or JSON document")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableSpec(f"{path}: not UTF-8 text (byte {exc.start})") from None


def _parse(path: Path, text: str) -> dict[str, Any]:
    try:
        if path.suffix in (".json", ".gz") or text.lstrip().startswith("{"):
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                if path.suffix == ".json":
                    raise
                data = _safe_yaml(text)
        else:
            data = _safe_yaml(text)
    except RecursionError:
        raise UnreadableSpec(f"{path}: nested too deeply to be a real API description") from None
    except json.JSONDecodeError as exc:
        raise UnreadableSpec(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise UnreadableSpec(f"{where}: invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise UnreadableSpec(f"{path}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "nothing"
        raise UnreadableSpec(f"{path}: expected an OpenAPI document (a mapping), found {kind}")
    result: dict[str, Any] = _string_keys(data)
    return result


_OPENING = (
    yaml.BlockMappingStartToken,
    yaml.BlockSequenceStartToken,
    yaml.FlowMappingStartToken,
    yaml.FlowSequenceStartToken,
)
_CLOSING = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


def _check_depth(text: str) -> None:
    """libyaml composes recursively and crashes the process on deep nesting: measure it first."""
    depth = 0
    for token in yaml.scan(text, Loader=_YamlLoader):
        if isinstance(token, _OPENING):
            depth += 1
            if depth > MAX_DEPTH:
                raise RecursionError
        elif isinstance(token, _CLOSING):
            depth -= 1


def _safe_yaml(text: str) -> Any:
    _check_depth(text)
    loader = _YamlLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node) -> None:
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        sizes[id(node)] = 1  # cycles count once
        total = 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                total += size(key) + size(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += size(item)
        if total > MAX_YAML_NODES:
            raise yaml.YAMLError(
                f"aliases expand to more than {MAX_YAML_NODES:,} nodes (an alias bomb?)"
            )
        sizes[id(node)] = total
        return total

    size(root)


def _string_keys(value: Any) -> Any:
    """YAML turns `200:` into an int key; OpenAPI means the string "200"."""
    if isinstance(value, dict):
        return {_key_text(k): _string_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_string_keys(v) for v in value]
    return value


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _openapi_version(path: Path, document: dict[str, Any]) -> str:
    if "swagger" in document:
        raise UnreadableSpec(
            f"{path}: Swagger {document.get('swagger')} is not supported; convert it to OpenAPI 3 "
            "first (for example with swagger2openapi, or the Swagger Editor's Convert to OpenAPI 3)"
        )
    version = document.get("openapi")
    if not isinstance(version, str) or not version.startswith("3."):
        shown = "missing" if version is None else repr(version)
        raise UnreadableSpec(f"{path}: not an OpenAPI 3.x document ('openapi' field is {shown})")
    if not version.startswith(("3.0", "3.1", "3.2")):
        raise UnreadableSpec(f"{path}: OpenAPI {version} is not supported (3.0, 3.1 and 3.2 are)")
    return version


def iter_refs(value: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """Every `$ref` string in the document with the JSON pointer of the object holding it."""
    stack: list[tuple[Any, str]] = [(value, pointer)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                yield where, ref
            for key, child in node.items():
                if isinstance(child, (dict, list)):
                    stack.append((child, f"{where}/{escape_pointer(str(key))}"))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                if isinstance(child, (dict, list)):
                    stack.append((child, f"{where}/{index}"))


def check_refs(path: Path, document: dict[str, Any]) -> None:
    """Every `$ref` left after bundling is local: refuse the ones that point at nothing."""
    problems = [
        Diagnostic(str(path), where, f"$ref {ref!r} points at nothing")
        for where, ref in iter_refs(document)
        if resolve_pointer(document, ref.partition("#")[2]) is MISSING
    ]
    if problems:
        problems.sort(key=lambda d: d.pointer)
        raise UnsupportedSpec(problems[0].message, tuple(problems))
