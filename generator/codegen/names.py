"""Turn any spec string into a valid, readable, collision-free Python identifier."""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|\b|_)|[A-Z]?[a-z]+|[A-Z]+|\d+")
_RESERVED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))
# Names the generated modules use themselves; a parameter called `impl` must not shadow them.
_GENERATED_NAMES = frozenset({"self", "impl", "request", "response", "app", "router", "body"})


_SPELLED_OUT = str.maketrans(
    {"ß": "ss", "Æ": "AE", "æ": "ae", "Ø": "O", "ø": "o", "Œ": "OE", "œ": "oe"}
)


def _words(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPELLED_OUT))
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii")
    return _WORD.findall(ascii_text)


def snake_case(text: str, *, fallback: str = "value") -> str:
    """`cancel_workflow_run`, `getHTTPResponse` → `get_http_response`, `meta/root` → `meta_root`."""
    name = "_".join(word.lower() for word in _words(text)) or fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}"
    if name in _RESERVED or name in _GENERATED_NAMES:
        name = f"{name}_"
    return name


def pascal_case(text: str, *, fallback: str = "Model") -> str:
    """`cancel_workflow_run` → `CancelWorkflowRun`; acronyms keep their capitals."""
    words = _words(text)
    name = "".join(word if word.isupper() else word[:1].upper() + word[1:] for word in words)
    name = name or fallback
    if name[0].isdigit():
        name = f"{fallback}{name}"
    if name in _RESERVED:
        name = f"{name}_"
    return name


def unique(name: str, taken: set[str]) -> str:
    """`name`, or `name_2`, `name_3`, … whichever is free; the result is added to `taken`."""
    candidate, counter = name, 2
    while candidate in taken:
        candidate = f"{name}_{counter}" if name[-1] != "_" else f"{name}{counter}"
        counter += 1
    taken.add(candidate)
    return candidate
