"""Print the OpenAPI document of the offline AgentOS of `app.py`, for the installed agno.

    <agno venv>/bin/python examples/agno/dump_openapi.py > tests/specs/agno/agno-X.json

Run it with the Python of a virtual environment that has `agno[os]==X`; no server is started
(FastAPI builds the document from the routes). Keys are sorted, so two dumps of one release
are byte-identical.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from app import build_app  # noqa: E402 - after the path entry


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="agno-dump-") as folder:
        document = build_app(Path(folder)).openapi()
    sys.stdout.write(json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
