"""`contract mock`: generate the package for any contract, import it, serve it with a mock.

The package is generated into a temporary folder exactly as `contract generate` would write it,
so the mock has the generated runtime's guarantees for every contract: the declared 401, the
declared 4xx for invalid requests, 405 with `Allow`. Only the implementation is the mock's.
"""

from __future__ import annotations

import base64
import importlib
import itertools
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import uvicorn

from generator.codegen.output import write_package
from generator.codegen.pipeline import Options, generate_package
from generator.listen import listen
from generator.spec.errors import Diagnostic
from generator.spec.loader import load_spec

from .plan import Planner
from .responder import PreferenceReader, Responder, implementation
from .streams import MockStreams

PACKAGE_PREFIX = "contract_mock_"
GRACEFUL_SHUTDOWN_SECONDS = 2
_packages = itertools.count(1)


@dataclass(frozen=True, slots=True)
class MockApp:
    app: Any  # the ASGI app: the generated FastAPI app behind the `Prefer` reader
    operations: int
    warnings: tuple[str, ...]


@contextmanager
def mock_app(
    spec: Path, *, token: str | None, seed: int, dynamic: bool, warn: Callable[[str], None]
) -> Iterator[MockApp]:
    """The mock of `spec`, valid while the context lasts (its package lives in a temp folder)."""
    warnings: list[str] = []

    def note(message: str) -> None:
        warnings.append(message)
        warn(message)

    def note_diagnostic(diagnostic: Diagnostic) -> None:
        note(str(diagnostic))

    package = f"{PACKAGE_PREFIX}{next(_packages)}"
    files = generate_package(
        spec,
        package,
        options=Options(rename_duplicate_operation_ids=True),
        warn=note_diagnostic,
    )
    with tempfile.TemporaryDirectory(prefix="contract-mock-") as scratch:
        write_package(Path(scratch) / package, files)
        sys.path.insert(0, scratch)
        try:
            module = importlib.import_module(package)
            app = _mocked(module, load_spec(spec).document, token, seed, dynamic, note)
            operations = len(module.app.ROUTES)
        finally:
            sys.path.remove(scratch)
        try:
            yield MockApp(PreferenceReader(app), operations, tuple(warnings))
        finally:
            for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
                del sys.modules[name]


def _mocked(
    module: ModuleType,
    document: dict[str, Any],
    token: str | None,
    seed: int,
    dynamic: bool,
    warn: Callable[[str], None],
) -> Any:
    planner = Planner(document, seed, warn)
    plans = planner.plans()
    api_class = getattr(module, module.__all__[0])
    streams = MockStreams(document, planner.generator)
    responder = Responder(planner, seed, dynamic, streams)
    impl = implementation(api_class, module.app.ROUTES, plans, responder)
    verifiers = {name: _verifier(scheme.kind, token) for name, scheme in _schemes(module).items()}
    return module.create_app(impl, verifiers=verifiers)


def _schemes(module: ModuleType) -> dict[str, Any]:
    schemes: dict[str, Any] = getattr(module.app, "SECURITY_SCHEMES", {})
    return schemes


def _verifier(kind: str, token: str | None) -> Callable[[str], bool]:
    """With --token, that token (for basic: as the whole credential or as the password);
    without, as Prism: any credential of the right kind."""
    from hmac import compare_digest

    def verify(given: str) -> bool:
        if token is None:
            return bool(given.strip())
        accepted = [given]
        if kind == "basic":
            try:
                decoded = base64.b64decode(given, validate=True).decode("utf-8")
            except ValueError:
                decoded = ""
            accepted += [decoded, decoded.partition(":")[2]]
        return any(compare_digest(c.encode(), token.encode()) for c in accepted)

    return verify


def serve_mock(
    spec: Path, *, host: str, port: int, token: str | None, seed: int, dynamic: bool
) -> bool:
    """Serve until interrupted; False when uvicorn gave up without having started."""
    sock = listen(host, port)

    def warn(message: str) -> None:
        print(f"contract mock: warning: {message}", file=sys.stderr, flush=True)

    try:
        with mock_app(spec, token=token, seed=seed, dynamic=dynamic, warn=warn) as mock:
            config = uvicorn.Config(
                mock.app,
                host=host,
                port=port,
                log_level="info",
                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            )
            server = uvicorn.Server(config)
            mode = "dynamic" if dynamic else f"seed {seed}"
            print(
                f"contract mock: {mock.operations} operations of {spec.name} ({mode}) "
                f"on http://{host}:{port}",
                flush=True,
            )
            try:
                server.run(sockets=[sock])
            except SystemExit:
                return False
            return bool(server.started)
    finally:
        sock.close()
