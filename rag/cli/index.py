"""`rag index add|rebuild|remove|info|verify`: build the index and look into it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from rag.cli.common import (
    ExitCode,
    F,
    emit_json,
    err,
    exit_with,
    handles_errors,
    index_option,
    json_option,
    out,
    reporter_for,
    runtime,
)
from rag.config import load_settings
from rag.types import BuildReport


@click.group("index")
def index_group() -> None:
    """Build and inspect the index."""


def _print_build(report: BuildReport, as_json: bool) -> None:
    if as_json:
        emit_json(report.model_dump())
    else:
        s, p = report.sources, report.passages
        out.print(
            f"[bold]index version {report.version}[/] at {report.index_dir} "
            f"({report.seconds:.1f} s)\n"
            f"sources: {s.added} added, {s.changed} changed, {s.removed} removed, "
            f"{s.unchanged} unchanged, {len(s.failed)} failed\n"
            f"passages: {p.embedded} embedded, {p.reused} reused, {p.deleted} deleted, "
            f"{p.total} in the index",
            highlight=False,
        )
        for failure in s.failed:
            err.print(
                f"[yellow]skipped[/] {escape(failure.path)}: {escape(failure.reason)}",
                highlight=False,
            )
    if report.sources.failed:
        exit_with(ExitCode.PARTIAL)


def build_command(func: F) -> F:
    """The options every index-changing command takes: --index, --embed-model, --max-file-mb,
    --json; and its errors turned into messages."""
    func = handles_errors(func)
    func = json_option(func)
    func = click.option(
        "--max-file-mb", type=float, default=None, help="Skip larger files (RAG_MAX_FILE_MB)."
    )(func)
    func = click.option("--embed-model", default=None, help="Embedding model (RAG_EMBED_MODEL).")(
        func
    )
    return index_option(func)


def _build(
    index_dir: Path | None,
    embed_model: str | None,
    max_file_mb: float | None,
    as_json: bool,
    **request: Any,
) -> None:
    from rag.index.build import build_index

    settings = load_settings(index_dir=index_dir, embed_model=embed_model, max_file_mb=max_file_mb)
    report = build_index(
        settings, embedder=runtime().embedder, reporter=reporter_for(as_json), **request
    )
    _print_build(report, as_json)


@index_group.command("add")
@click.argument("paths", nargs=-1, required=True)
@build_command
def index_add(paths: tuple[str, ...], **options: Any) -> None:
    """Register files or folders (.txt .md .html .pdf .jsonl), or web pages and RSS/Atom feeds
    by their http(s) address, and index them."""
    _build(add=paths, **options)


@index_group.command("rebuild")
@click.option("--full", is_flag=True, help="Re-read and re-embed everything.")
@build_command
def index_rebuild(full: bool, **options: Any) -> None:
    """Rescan registered locations; embed only new or changed passages; publish a new version."""
    _build(full=full, **options)


@index_group.command("remove")
@click.argument("items", nargs=-1, required=True)
@index_option
@json_option
@handles_errors
def index_remove(items: tuple[str, ...], index_dir: Path | None, as_json: bool) -> None:
    """Unregister a location, or drop a source (by id or file path) and keep it out; adding
    it again brings it back."""
    _build(index_dir, None, None, as_json, remove=items)


@index_group.command("info")
@index_option
@json_option
@handles_errors
def index_info(index_dir: Path | None, as_json: bool) -> None:
    """Version, counts, model, chunking and registered locations of the index."""
    from rag.index.info import index_info as info_of

    info = info_of(load_settings(index_dir=index_dir))
    if as_json:
        emit_json(info.model_dump())
        return
    for key, value in info.rows():
        # Plain lines, not a table: paths must stay whole for copying and grepping.
        click.echo(f"{key:<11} " + value.replace("\n", "\n" + " " * 12))


@index_group.command("verify")
@click.option(
    "--mend",
    is_flag=True,
    help="Publish a mended version: keep sound vectors, re-embed the rest from SQLite.",
)
@index_option
@json_option
@handles_errors
def index_verify(mend: bool, index_dir: Path | None, as_json: bool) -> None:
    """Verify that SQLite, the vectors, BM25 and the manifest agree (same passage ids and
    counts)."""
    from rag.index.mend import mend_index
    from rag.index.verify import verify_index

    settings = load_settings(index_dir=index_dir)
    report = (
        mend_index(settings, embedder=runtime().embedder, reporter=reporter_for(as_json))
        if mend
        else verify_index(settings)
    )
    if as_json:
        emit_json(report.model_dump())
    else:
        counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
        if report.mended_from is not None:
            out.print(
                f"mended version {report.mended_from} as version {report.version}: "
                f"{report.kept_vectors} vectors kept, {report.re_embedded} passages re-embedded",
                highlight=False,
            )
        state = "[green]ok[/]" if report.ok else "[red]problems found[/]"
        out.print(f"index version {report.version}: {state} (passages: {counts})", highlight=False)
        for problem in report.problems:
            err.print(f"  {problem.part}: {problem.message}", highlight=False, markup=False)
        for path in report.leftovers:
            err.print(f"  left by a build that died (harmless): {escape(path)}", highlight=False)
        if not report.ok:
            err.print("mend it with `rag index verify --mend`", highlight=False)
    if not report.ok:
        exit_with(ExitCode.PROBLEMS)
