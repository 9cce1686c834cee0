"""Inline external `$ref`s so that the rest of the generator sees one self-contained document.

A spec is untrusted input: a file ref may not leave the spec's folder (symlinks included), a remote
ref is fetched only when the user asked for it (http and https only, with a timeout and a size
limit), and a chain of refs that comes back to itself across files is refused, not followed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from generator.spec.errors import Diagnostic, UnsupportedSpec
from generator.spec.pointers import escape_pointer, is_missing, resolve_pointer

Parse = Callable[[str, bytes], Any]  # (label used in messages and to pick JSON/YAML, raw bytes)
REMOTE_TIMEOUT_SECONDS = 10.0


class Bundler:
    def __init__(
        self, root: Path, parse: Parse, *, allow_remote: bool, max_bytes: int, max_nodes: int
    ) -> None:
        self.root = root
        self.folder = root.resolve().parent
        self.parse = parse
        self.allow_remote = allow_remote
        self.max_bytes = max_bytes
        self.documents: dict[str, Any] = {}
        self.problems: list[Diagnostic] = []
        self.budget = max_nodes

    def bundle(self, document: dict[str, Any]) -> dict[str, Any]:
        if not _has_external_refs(document):
            return document
        root_base = str(self.root.resolve())
        self.documents[root_base] = document
        result = self._inline(document, root_base, "", ())
        if self.problems:
            raise UnsupportedSpec(self.problems[0].message, tuple(self.problems))
        bundled: dict[str, Any] = result
        return bundled

    def _inline(self, node: Any, base: str, pointer: str, active: tuple[str, ...]) -> Any:
        self.budget -= 1
        if self.budget < 0:  # refs across files can multiply a small document, like aliases
            raise UnsupportedSpec("external $refs expand to too large a document (a ref bomb?)")
        if isinstance(node, list):
            return [self._inline(v, base, f"{pointer}/{i}", active) for i, v in enumerate(node)]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and not (ref.startswith("#") and base == str(self.root.resolve())):
            return self._follow(node, ref, base, pointer, active)
        return {
            k: self._inline(v, base, f"{pointer}/{escape_pointer(str(k))}", active)
            for k, v in node.items()
        }

    def _follow(
        self, node: dict[str, Any], ref: str, base: str, pointer: str, active: tuple[str, ...]
    ) -> Any:
        target, _, fragment = ref.partition("#")
        location = self._locate(target, base, pointer, ref) if target else base
        if location is None:
            return {}
        key = f"{location}#{fragment}"
        if key in active:
            self._problem(pointer, f"$ref {ref!r} comes back to itself across files; refused")
            return {}
        document = self._load(location, pointer, ref)
        if document is None:
            return {}
        found = resolve_pointer(document, fragment)
        if is_missing(found):
            self._problem(pointer, f"$ref {ref!r} points at nothing in {_label(location)}")
            return {}
        inlined = self._inline(copy.deepcopy(found), location, pointer, (*active, key))
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        if siblings and isinstance(inlined, dict):
            return {**inlined, **self._inline(siblings, base, pointer, active)}
        return inlined

    def _locate(self, target: str, base: str, pointer: str, ref: str) -> str | None:
        if urlsplit(base).scheme in ("http", "https"):
            location = urljoin(base, target)
        elif urlsplit(target).scheme:
            location = target
        else:
            resolved = (Path(base).parent / target).resolve()
            if not resolved.is_relative_to(self.folder):
                self._problem(pointer, f"$ref {ref!r} leaves the spec's folder; refused")
                return None
            return str(resolved)
        scheme = urlsplit(location).scheme
        if scheme not in ("http", "https"):
            self._problem(pointer, f"$ref {ref!r}: only http and https refs can be fetched")
            return None
        if not self.allow_remote:
            self._problem(
                pointer,
                f"remote $ref {ref!r} is not fetched",
                "pass --allow-remote-refs to fetch it, or vendor the file",
            )
            return None
        return location

    def _load(self, location: str, pointer: str, ref: str) -> Any:
        if location in self.documents:
            return self.documents[location]
        try:
            raw = self._fetch(location) if "://" in location else self._read(Path(location))
            document = self.parse(location, raw)
        except UnsupportedSpec as exc:
            self._problem(pointer, f"$ref {ref!r}: {exc.message}")
            return None
        except FileNotFoundError:
            self._problem(pointer, f"$ref {ref!r}: no such file {_label(location)}")
            return None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            self._problem(pointer, f"$ref {ref!r}: cannot read {_label(location)} ({reason})")
            return None
        except Exception as exc:  # unreadable target: one line for the user
            self._problem(pointer, f"$ref {ref!r}: {getattr(exc, 'message', exc)}")
            return None
        self.documents[location] = document
        return document

    def _read(self, path: Path) -> bytes:
        with path.open("rb") as handle:
            raw = handle.read(self.max_bytes + 1)
        if len(raw) > self.max_bytes:
            raise UnsupportedSpec(f"{path.name} is larger than the size limit")
        return raw

    def _fetch(self, url: str) -> bytes:
        import httpx

        chunks: list[bytes] = []
        size = 0
        with httpx.stream("GET", url, timeout=REMOTE_TIMEOUT_SECONDS, follow_redirects=False) as r:
            if r.status_code != 200:
                raise UnsupportedSpec(f"fetching {url} answered HTTP {r.status_code}")
            for chunk in r.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise UnsupportedSpec(f"{url} is larger than the size limit")
                chunks.append(chunk)
        return b"".join(chunks)

    def _problem(self, pointer: str, message: str, hint: str = "") -> None:
        self.problems.append(Diagnostic(str(self.root), pointer, message, hint))


def _has_external_refs(node: Any) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            ref = current.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                return True
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return False


def _label(location: str) -> str:
    return location if "://" in location else Path(location).name
