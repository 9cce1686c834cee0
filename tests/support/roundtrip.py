"""What a contract declares versus what a generated app really routes: paths, methods,
parameters (name, location, required) and declared status codes."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from generator.spec.openapi import iter_operations, resolved

Surface = dict[tuple[str, str], dict[str, Any]]
IGNORED_HEADERS = {"accept", "content-type", "authorization"}
_TEMPLATE = re.compile(r"{([^{}]+)}")


def spec_surface(document: dict[str, Any]) -> Surface:
    surface: Surface = {}
    for ref in iter_operations(document):
        params: dict[tuple[str, str], bool] = {}
        for source in (ref.item, ref.operation):
            for raw in source.get("parameters") or []:
                param = resolved(document, raw)
                if param["in"] == "header" and param["name"].lower() in IGNORED_HEADERS:
                    continue
                params[(param["name"], param["in"])] = (
                    bool(param.get("required")) or param["in"] == "path"
                )
        statuses = {
            str(s).upper() if str(s)[0].isdigit() else "default"
            for s in (ref.operation.get("responses") or {})
        } or {"default"}
        surface[(ref.path, ref.method.upper())] = {
            "parameters": {(n, i, r) for (n, i), r in params.items()},
            "statuses": statuses,
        }
    return surface


def _status_label(low: int, high: int) -> str:
    if low == high:
        return str(low)
    if high - low == 99:
        return f"{low // 100}XX"
    return "default"


def app_surface(app: FastAPI) -> Surface:
    """Derived from the routes FastAPI really serves (not from the served contract document)."""
    derived = get_openapi(title="derived", version="0", routes=app.routes)
    contracts = {
        (route.path_format, next(iter(route.methods))): route.contract  # type: ignore[attr-defined]
        for route in app.routes
        if hasattr(route, "contract")
    }
    surface: Surface = {}
    for route_path, item in derived.get("paths", {}).items():
        for method, operation in item.items():
            contract = contracts[(route_path, method.upper())]
            python_names = _TEMPLATE.findall(route_path)
            renamed = dict(zip(python_names, _TEMPLATE.findall(contract.path), strict=True))
            wire_path = route_path
            for python_name, wire_name in renamed.items():
                wire_path = wire_path.replace("{" + python_name + "}", "{" + wire_name + "}")
            parameters = set()
            for param in operation.get("parameters", []):
                name = (
                    renamed.get(param["name"], param["name"])
                    if param["in"] == "path"
                    else param["name"]
                )
                parameters.add((name, param["in"], bool(param.get("required"))))
            statuses = {_status_label(*r.status_range) for r in contract.responses}
            surface[(wire_path, method.upper())] = {"parameters": parameters, "statuses": statuses}
    return surface


def differences(declared: Surface, served: Surface) -> list[str]:
    problems = [f"missing operation {m} {p}" for (p, m) in sorted(set(declared) - set(served))]
    problems += [f"extra operation {m} {p}" for (p, m) in sorted(set(served) - set(declared))]
    for key in sorted(set(declared) & set(served)):
        for aspect in ("parameters", "statuses"):
            if declared[key][aspect] != served[key][aspect]:
                problems.append(
                    f"{key[1]} {key[0]} {aspect}: declared {sorted(declared[key][aspect])} "
                    f"served {sorted(served[key][aspect])}"
                )
    return problems
