"""What every `rag` subcommand shares: the runtime it builds its work from, consoles, the --json
and --index options, and the one place library errors become a message and an exit code.

Exit codes (`ExitCode`): 0 done; 1 error, nothing changed; 2 usage error; 3 done, but some
sources or lines failed and were skipped (listed); 4 another process is building the index;
5 a check found problems (listed): `rag index verify` parts of the index that disagree,
`rag validate` answers it rejected.

With --json an error is printed on stdout as {"error": {"code": ..., "message": ...}}: the
inner object is the HTTP API's error body, with the same codes.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from rag.errors import DiskFullError, IndexBusyError, RagError, out_of_space
from rag.progress import Reporter, RichReporter, Silent

if TYPE_CHECKING:  # imported when a command runs, not for `rag --help`
    from rag.embed import Embedder
    from rag.llm.model import ModelFactory

F = TypeVar("F", bound=Callable[..., Any])

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class ExitCode(IntEnum):
    """What `rag` exits with."""

    OK = 0
    ERROR = 1
    USAGE = 2
    PARTIAL = 3
    BUSY = 4
    PROBLEMS = 5


# Library errors -> exit code; the first matching class wins (subclasses first).
EXIT_CODES: list[tuple[type[RagError], ExitCode]] = [
    (IndexBusyError, ExitCode.BUSY),
    (RagError, ExitCode.ERROR),
]


@dataclass
class Runtime:
    """What the commands build their work from: `rag` runs with the defaults (the configured
    encoder, loaded when needed; models opened by name); tests give fakes as click's `obj`."""

    embedder: Embedder | None = None
    models: ModelFactory | None = None

    def chat_models(self) -> ModelFactory:
        """Model string, settings -> chat model: the given factory, else litellm's providers
        and the embedded engine."""
        if self.models is not None:
            return self.models
        from rag.llm.providers import open_model

        return open_model


def runtime() -> Runtime:
    """The runtime of the command being run."""
    found = click.get_current_context().find_object(Runtime)
    return found if found is not None else Runtime()


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def error_json(code: str, message: str) -> str:
    """The one JSON shape of an error, on one line."""
    return json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False)


def exit_with(code: ExitCode) -> NoReturn:
    sys.exit(int(code))


def _fail(code: str, message: str, exit_code: ExitCode, as_json: bool) -> NoReturn:
    if as_json:
        click.echo(error_json(code, message))
    err.print(f"[bold red]Error:[/] {escape(message)}", highlight=False)
    exit_with(exit_code)


def exit_code_of(exc: RagError) -> ExitCode:
    """The exit code for a library error."""
    return next(code for kind, code in EXIT_CODES if isinstance(exc, kind))


def handles_errors(func: F) -> F:
    """Turn library errors into a one-line message (and a JSON error with --json) and exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = kwargs.get("as_json", False)
        try:
            return func(*args, **kwargs)
        except RagError as exc:
            _fail(exc.code, str(exc), exit_code_of(exc), as_json)
        except OSError as exc:
            # Permissions, a folder where a file should be: the OS says it best.
            where = f": {exc.filename}" if exc.filename else ""
            if out_of_space(exc):
                message = f"no space left on the disk{where}; free space there and run again"
                _fail(DiskFullError.code, message, ExitCode.ERROR, as_json)
            _fail("os_error", f"{exc.strerror or exc}{where}", ExitCode.ERROR, as_json)

    return wrapper  # type: ignore[return-value]


def index_option(func: F) -> F:
    """`--index DIR`, overriding RAG_INDEX_DIR."""
    return click.option(
        "--index",
        "index_dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Index folder (default: RAG_INDEX_DIR or ./index).",
    )(func)


def json_option(func: F) -> F:
    """`--json`: machine-readable output on stdout."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(func)


def reporter_for(as_json: bool) -> Reporter:
    """Progress on stderr: a bar on a terminal, a line "task: done/total" every 30 s in a log
    file (a long `rag eval` run with its output redirected was silent for 40 minutes); none
    for `--json`, which scripts read."""
    return Silent() if as_json else RichReporter()
