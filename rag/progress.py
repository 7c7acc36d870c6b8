"""Progress bars for long work, on stderr so `--json` output stays clean."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from typing import Protocol

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class Tick(Protocol):
    """Advance a task by n items."""

    def __call__(self, n: int = 1) -> None: ...


class Reporter(Protocol):
    """What a long job reports to: one task at a time, with a total, and what the item under
    way is doing (`note`), for items that take long on their own."""

    def task(self, description: str, total: int) -> contextlib.AbstractContextManager[Tick]: ...

    def note(self, text: str) -> None: ...


class Silent:
    """Reports nothing (library default, tests)."""

    @contextlib.contextmanager
    def task(self, description: str, total: int) -> Iterator[Tick]:
        def tick(n: int = 1) -> None:
            return None

        yield tick

    def note(self, text: str) -> None:
        return None


class RichReporter:
    """A rich progress bar per task on stderr; where stderr is no terminal (a log file), also
    a line "task: done/total" at most every `every` seconds, since the bar is written there
    only once its task is done."""

    def __init__(self, console: Console | None = None, every: float = 30.0) -> None:
        self.console = console or Console(stderr=True)
        self.every = every
        self._shown: tuple[Progress, TaskID, str] | None = None  # the task on screen

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
            self._shown = (progress, task_id, description)

            last, done = time.monotonic(), 0  # when a line was last written; items done

            def tick(n: int = 1) -> None:
                nonlocal last, done
                progress.advance(task_id, n)
                done += n
                now = time.monotonic()
                if self.console.is_terminal or now - last < self.every or done >= total:
                    return  # a terminal has the bar; at the end the bar is written anyway
                last = now
                progress.console.print(f"{escape(description)}: {done}/{total}")

            try:
                yield tick
            finally:
                self._shown = None

    def note(self, text: str) -> None:
        """Shown beside the task's description; printed on its own line between tasks."""
        if self._shown is None:
            self.console.print(f"[dim]{escape(text)}[/]", highlight=False)
            return
        progress, task_id, description = self._shown
        progress.update(task_id, description=f"{description} [dim]({escape(text)})[/]")


# Test hooks: named points a build passes, so crash tests stop it at a point rather than after
# a time (which depends on the machine's speed). Off unless these variables are set.
CHECKPOINTS_FILE = "RAG_TEST_CHECKPOINTS"  # a file each point reached is appended to
KILL_AT = "RAG_TEST_KILL_AT"  # n: the process kills itself (SIGKILL) at the n-th point
HOLD_AT = "RAG_TEST_HOLD_AT"  # n: at the n-th point, wait while the file RAG_TEST_HOLD exists
HOLD_FILE = "RAG_TEST_HOLD"
_passed = [0]


def checkpoint(name: str) -> None:
    """Mark a point of a build (see the RAG_TEST_ variables above); nothing when unset."""
    if not any(v in os.environ for v in (CHECKPOINTS_FILE, KILL_AT, HOLD_AT)):
        return
    _passed[0] += 1
    n = _passed[0]
    record = os.environ.get(CHECKPOINTS_FILE)
    if record:
        with open(record, "a", encoding="utf-8") as fh:
            fh.write(f"{n} {name}\n")
    if os.environ.get(KILL_AT) == str(n):
        os.kill(os.getpid(), signal.SIGKILL)
    hold = os.environ.get(HOLD_FILE)
    if os.environ.get(HOLD_AT) == str(n) and hold:
        deadline = time.monotonic() + 300
        while os.path.exists(hold) and time.monotonic() < deadline:
            time.sleep(0.01)
