"""Progress bars for long work, on stderr so `--json` output stays clean."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class Tick(Protocol):
    """Advance a task by n items."""

    def __call__(self, n: int = 1) -> None: ...


class Reporter(Protocol):
    """What a long job reports to: one task at a time, with a total."""

    def task(self, description: str, total: int) -> contextlib.AbstractContextManager[Tick]: ...


class Silent:
    """Reports nothing (library default, tests)."""

    @contextlib.contextmanager
    def task(self, description: str, total: int) -> Iterator[Tick]:
        def tick(n: int = 1) -> None:
            return None

        yield tick


class RichReporter:
    """A rich progress bar per task on stderr."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)

    @contextlib.contextmanager
    def task(self, description: str, total: int) -> Iterator[Tick]:
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=self.console, transient=False) as progress:
            task_id = progress.add_task(description, total=total)

            def tick(n: int = 1) -> None:
                progress.advance(task_id, n)

            yield tick
