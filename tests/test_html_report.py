"""report.html: one offline page, escaped against the server, checked in headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.html_report import render_html
from conformance.report import write_reports
from tests.support.browser import dump_dom, screenshot
from tests.support.results import agno_shaped_result

HOSTILE = (
    '<script>alert("x")</script> <img src=x onerror=alert(1)> **bold** [a](javascript:x) '
    "\x1b[2J\x00"
)


def test_the_page_fetches_nothing() -> None:
    page = render_html(agno_shaped_result())
    assert page.count("<script") == 1  # ours, inline
    assert not re.search(r"<(link|img|iframe|object|embed)\b", page)
    assert not re.search(r"\b(src|href)\s*=", page)
    assert "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page  # and the browser is told to refuse anything else


def test_hostile_text_is_escaped() -> None:
    page = render_html(agno_shaped_result(hostile=HOSTILE))
    assert page.count("<script") == 1 and "<img" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "**bold** [a](javascript:x)" in page  # text, never rendered as markdown
    assert "\x1b" not in page and "\x00" not in page
    assert "\\x1b[2J\\x00" in page


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    written = write_reports(agno_shaped_result(hostile=HOSTILE), folder)
    assert folder / "report.html" in written
    return folder / "report.html"


@pytest.mark.slow
def test_chromium_renders_the_matrix_and_the_findings(report: Path, tmp_path: Path) -> None:
    dom = dump_dom(report.as_uri(), tmp_path / "profile")
    assert 'data-rendered="yes"' in dom  # the page's script ran to the end
    assert "131 of 131 operations" in dom and "15 of 15 findings" in dom
    assert len(re.findall(r'<tr data-operation="', dom)) == 131
    assert len(re.findall(r'<td class="heat-\d"', dom)) > 200
    assert len(re.findall(r'<article class="finding"', dom)) == 15
    groups = re.findall(r'<div class="group" data-check="([a-z_]+)"', dom)
    assert groups == ["declared_status", "declared_schema", "no_server_error"]
    assert dom.count('<pre class="curl">curl -sS -i -X ') == 15
    # The hostile body is text in the DOM, not an element.
    assert "<img" not in dom and dom.count("<script") == 1
    png = screenshot(report.as_uri(), tmp_path / "profile", tmp_path / "report.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


@pytest.mark.slow
def test_filters_apply_from_the_address(report: Path, tmp_path: Path) -> None:
    dom = dump_dom(report.as_uri() + "#check=declared_schema", tmp_path / "profile")
    assert "5 of 15 findings" in dom and "5 of 131 operations" in dom
    visible = re.findall(r'<article class="finding" data-check="([a-z_]+)"[^>]*>', dom)
    hidden = re.findall(r'<article class="finding" data-check="([a-z_]+)"[^>]*hidden', dom)
    assert len(visible) == 15 and set(visible) - set(hidden) == {"declared_schema"}
    one = dump_dom(report.as_uri() + "#operation=GET%20/config", tmp_path / "profile")
    assert "1 of 131 operations" in one
