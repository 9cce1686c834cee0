"""The terminal layer: colour only for people, summaries that fit the width, nothing raw."""

from __future__ import annotations

import io

import pytest

from conformance.results import StreamRow
from conformance.summary import render_summary
from generator.terminal.console import interactive, wants_colour, width_of
from generator.terminal.text import printable, say, shell_lines
from tests.support.results import agno_shaped_result


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("env", "progress", "colour"),
    [
        ({"TERM": "xterm"}, True, True),
        ({"TERM": "xterm", "NO_COLOR": "1"}, True, False),
        ({"TERM": "dumb"}, False, False),
        ({"TERM": "xterm", "CI": "true"}, False, False),
    ],
)
def test_who_gets_progress_and_colour(env: dict[str, str], progress: bool, colour: bool) -> None:
    assert interactive(FakeTerminal(), env) is progress
    assert wants_colour(FakeTerminal(), env) is colour
    assert not interactive(io.StringIO(), {"TERM": "xterm"})  # a pipe
    assert not wants_colour(io.StringIO(), {"TERM": "xterm"})


def test_a_pipe_is_100_columns_unless_columns_says(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert width_of(io.StringIO()) == 100
    monkeypatch.setenv("COLUMNS", "132")
    assert width_of(io.StringIO()) == 132


def test_control_characters_are_escaped() -> None:
    assert printable("a\x1b[31mb\x07\tc\nd\x9b") == "a\\x1b[31mb\\x07\tc\nd\\x9b"


@pytest.mark.parametrize("width", [80, 100, 120])
def test_agno_shaped_summary_fits_the_width(width: int) -> None:
    summary = render_summary(agno_shaped_result(), width=width)
    lines = summary.splitlines()
    assert max(len(line) for line in lines) <= width
    assert "13 declared statuses, folded to fit" in summary
    assert "NOT CONFORMANT: 15 findings, 1 error" in summary
    # One row per operation, the statuses it never saw on the same row as its name.
    config = next(line for line in lines if line.strip().startswith("GET /config "))
    assert config.split()[-2:] == ["400", "422"]
    assert "200×15" in config
    # Every finding names its code; the untested list is cut, the reports keep it whole.
    assert summary.count("CT1") >= 15
    assert "and 38 more (the reports list them all)" in " ".join(summary.split())


@pytest.mark.parametrize("width", [80, 100])
def test_a_stream_s_operation_keeps_its_line_in_the_streams_list(width: int) -> None:
    result = agno_shaped_result()
    operation = "POST /workflows/{workflow_id}/runs"
    outcome = "CancelStreamingRun: passed, ended 27 ms after the call with WorkflowCancelled"
    result.streams = [
        StreamRow(operation, "200", "text/event-stream", "read", "8 items, ended"),
        StreamRow(operation, "200", "text/event-stream", "link CancelStreamingRun", outcome),
    ]
    summary = render_summary(result, width=width)
    table = summary.split("Streams: ")[1].split("\n\n")[0].splitlines()
    assert max(len(line) for line in table) <= width
    heads = [line for line in table if operation in line]
    assert heads == [f"  {operation} 200 text/event-stream"], table  # one line, never folded
    assert table[2] == "    read: 8 items, ended"
    assert " ".join(table[3:]).split() == f"link {outcome}".split()


def test_summary_colour_only_when_asked() -> None:
    result = agno_shaped_result()
    assert "\x1b[" not in render_summary(result, width=100)
    assert "\x1b[1m" in render_summary(result, width=100, colour=True)


def test_a_hostile_server_cannot_reach_the_terminal() -> None:
    result = agno_shaped_result(hostile="\x1b]0;pwned\x07\x1b[2J [bold]x[/bold]")
    summary = render_summary(result, width=100, colour=True)
    assert "\x1b]0" not in summary and "\x1b[2J" not in summary and "\x07" not in summary
    assert "\\x1b]0;pwned\\x07" in summary
    assert "[bold]x[/bold]" in summary  # printed as text, not read as rich markup


def test_say_colours_a_terminal_only_and_never_wraps(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CI", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm")
    long_line = "spec.yaml#/paths/~1x: " + "word " * 40 + "\x1b[2J"
    terminal, pipe = FakeTerminal(), io.StringIO()
    say(long_line, stream=terminal, style="red")
    say(long_line, stream=pipe, style="red")
    assert pipe.getvalue() == printable(long_line) + "\n"
    assert "\x1b[31m" in terminal.getvalue() and "\x1b[2J" not in terminal.getvalue()
    assert terminal.getvalue().count("\n") == 1  # one line, as CI greps it
    monkeypatch.setenv("NO_COLOR", "1")
    plain = FakeTerminal()
    say(long_line, stream=plain, style="red")
    assert plain.getvalue() == printable(long_line) + "\n"


def test_a_wrapped_reproduction_line_still_pastes_into_a_shell() -> None:
    command = "contract conform spec/agentos.yaml --url http://127.0.0.1:7777 --param " * 3
    lines = shell_lines("reproduce: ", command.strip(), 60)
    assert len(lines) > 1 and all(len(line) <= 60 for line in lines)
    assert all(line.endswith(" \\") for line in lines[:-1])
    joined = " ".join(line.removesuffix(" \\").strip() for line in lines)
    assert joined == "reproduce: " + command.strip()
    summary = render_summary(agno_shaped_result(), width=80)
    assert summary.splitlines()[-2:] == [
        "reproduce: contract conform agno-agentos-3.1.10.json --url \\",
        "    http://127.0.0.1:7777 --seed 42",
    ]
