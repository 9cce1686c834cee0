"""The `Prefer` request header as Prism reads it: `code=404`, `example=NAME`, `dynamic=true`.

RFC 7240: preferences are `token[=value]`, separated by commas (and parameters by semicolons);
a preference the server cannot honour is ignored, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_HEADER_CHARS = 1024


@dataclass(frozen=True, slots=True)
class Preferences:
    code: int | None = None
    example: str | None = None
    dynamic: bool | None = None


def parse_prefer(values: list[str]) -> Preferences:
    code: int | None = None
    example: str | None = None
    dynamic: bool | None = None
    text = ",".join(values)[:MAX_HEADER_CHARS]
    for part in text.replace(";", ",").split(","):
        name, _, value = part.partition("=")
        name = name.strip().lower()
        value = value.strip().strip('"')
        if name == "code" and value.isdigit() and len(value) == 3:
            code = int(value)
        elif name == "example" and value:
            example = value
        elif name == "dynamic" and value.lower() in ("true", "false"):
            dynamic = value.lower() == "true"
    return Preferences(code, example, dynamic)
