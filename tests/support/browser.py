"""Headless Chromium (Debian's `chromium`, installed by `make test`): the DOM after the page's
scripts ran, and screenshots. Pages are local files; the browser is kept off the network."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",  # tests run as root in CI containers
    "--disable-gpu",
    "--no-first-run",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-sync",
    "--proxy-server=127.0.0.1:9",  # anything the page tried to fetch would fail, not leave
    "--proxy-bypass-list=<-loopback>",
)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "no chromium: `make test` installs it (apt-get install -y chromium)"
    return found


def _run(page: str, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, page],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def dump_dom(page: str, profile: Path) -> str:
    """The serialised DOM once the page loaded and its scripts ran (`--dump-dom`)."""
    return _run(page, profile, "--virtual-time-budget=5000", "--dump-dom").stdout


def screenshot(page: str, profile: Path, png: Path, size: str = "1400,1000") -> Path:
    _run(page, profile, f"--window-size={size}", f"--screenshot={png}")
    return png
