"""`rag check`: a claim, a paragraph or an article checked against the index, claim by claim."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape

from rag.cli.common import (
    ExitCode,
    emit_json,
    err,
    exit_with,
    handles_errors,
    index_option,
    json_option,
    out,
    runtime,
)
from rag.config import load_settings
from rag.errors import ConfigError
from rag.types import CheckedClaim

_COLOURS = {"supported": "green", "contradicted": "red", "not_found": "yellow"}


def _read(text: str | None, file: Path | None) -> str:
    if text is not None and file is not None:
        raise ConfigError("give the text or --file, not both")
    if file is not None:
        try:
            return file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{file} is not UTF-8 text ({exc.reason}); save it as UTF-8") from exc
    if text is None or text == "-":
        if sys.stdin.isatty():
            raise ConfigError(
                "nothing to check: give the text as an argument, --file PATH, or pipe it in "
                "(rag check - < article.txt)"
            )
        return sys.stdin.read()
    return text


@click.command("check")
@click.argument("text", required=False)
@click.option(
    "--file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Read the text from a file (UTF-8); '-' as TEXT reads standard input.",
)
@click.option("-k", type=click.IntRange(1, 50), default=None, help="Passages per claim (8).")
@click.option(
    "--mode",
    type=click.Choice(["fast", "judge", "strict"]),
    default=None,
    help="How claims are checked (default judge; fast cannot tell contradicted claims).",
)
@click.option("--model", default=None, help="litellm model string of the judge.")
@index_option
@json_option
@handles_errors
def check_command(
    text: str | None,
    file: Path | None,
    k: int | None,
    mode: str | None,
    model: str | None,
    index_dir: Path | None,
    as_json: bool,
) -> None:
    """Check a text against the index: each claim supported, contradicted or not found, with
    the passages behind it. Exits 5 when any claim is contradicted or not found."""
    from rag.check.checker import open_checker

    source = _read(text, file)
    settings = load_settings(index_dir=index_dir, check_k=k, validate_mode=mode, judge_model=model)
    given = runtime()

    def progress(message: str) -> None:
        err.print(f"[dim]{escape(message)}…[/]", highlight=False)

    def show(claim: CheckedClaim) -> None:
        colour = _COLOURS[claim.verdict]
        err.print(
            f"[{colour}]{claim.n}. {claim.verdict.replace('_', ' ')}[/] {escape(claim.text)}",
            highlight=False,
        )

    checker = open_checker(
        settings, given.embedder, given.chat_models(), on_progress=None if as_json else progress
    )
    report = checker.check(source, on_claim=None if as_json else show)
    if as_json:
        emit_json(report.model_dump())
    else:
        click.echo("\n" + report.summary)
        out.print("[bold]Sources[/]", highlight=False)
        for c in report.citations:
            date = f" ({c.date})" if c.date else ""
            where = c.url or c.path or c.source_id
            out.print(
                f"[{c.n}] {c.title}{date}, {where}\n    \u201c{c.quote}\u201d",
                highlight=False,
                markup=False,
            )
    if report.counts["contradicted"] or report.counts["not_found"]:
        exit_with(ExitCode.PROBLEMS)
