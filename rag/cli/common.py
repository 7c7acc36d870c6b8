"""What every `rag` subcommand shares: consoles, --json and --index options, and the one place
library errors become a message and an exit code."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from rag.errors import RagError
from rag.progress import Reporter, RichReporter, Silent

EXIT_PARTIAL = 3
EXIT_PROBLEMS = 5
F = TypeVar("F", bound=Callable[..., Any])

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _fail(kind: str, message: str, code: int, as_json: bool) -> None:
    if as_json:
        emit_json({"error": {"type": kind, "message": message}})
    err.print(f"[bold red]Error:[/] {escape(message)}", highlight=False)
    sys.exit(code)


def handles_errors(func: F) -> F:
    """Turn library errors into a one-line message (and a JSON error with --json) and exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RagError as exc:
            _fail(type(exc).__name__, str(exc), exc.exit_code, kwargs.get("as_json", False))
        except OSError as exc:
            # Disk full, permissions, a folder where a file should be: the OS says it best.
            where = f": {exc.filename}" if exc.filename else ""
            _fail("OSError", f"{exc.strerror or exc}{where}", 1, kwargs.get("as_json", False))

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
    return Silent() if as_json or not sys.stderr.isatty() else RichReporter()
