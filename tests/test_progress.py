"""Progress on stderr: a bar on a terminal, and lines a log file can show while work runs."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from rag.cli.common import reporter_for
from rag.progress import RichReporter, Silent


@pytest.mark.parametrize(
    ("terminal", "every", "lines"),
    [
        (False, 0.0, ["build: 1/3", "build: 2/3"]),  # a log: a line per tick, the bar at the end
        (False, 3600.0, []),  # not yet due: the bar at the end only
        (True, 0.0, []),  # a terminal has the bar
    ],
)
def test_a_log_file_sees_progress_before_the_task_ends(
    terminal: bool, every: float, lines: list[str]
) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=terminal, width=100)
    with RichReporter(console, every=every).task("build", total=3) as tick:
        for _ in range(3):
            tick()
    written = [line.strip() for line in out.getvalue().splitlines()]
    assert [line for line in written if line.startswith("build: ")] == lines


@pytest.mark.parametrize(("as_json", "kind"), [(False, RichReporter), (True, Silent)])
def test_the_cli_shows_progress_unless_its_output_is_json(as_json: bool, kind: type) -> None:
    """Under pytest stderr is no terminal, as with a log file: progress is still shown."""
    assert isinstance(reporter_for(as_json), kind)
