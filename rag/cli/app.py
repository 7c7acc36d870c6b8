"""The `rag` command: the only place (with the server) where errors become messages and exit codes.

Exit codes: 0 done; 1 error (nothing changed); 2 usage error; 3 index published but some
sources failed and were skipped (listed); 4 another process is building the index; 5 `rag index
check` found parts of the index that disagree (listed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from rag.cli.common import (
    EXIT_PARTIAL,
    EXIT_PROBLEMS,
    F,
    emit_json,
    err,
    handles_errors,
    index_option,
    json_option,
    out,
    reporter_for,
)
from rag.cli.eval import eval_group
from rag.cli.serve import serve_command
from rag.config import Settings, load_settings
from rag.types import Answer, BuildReport


@click.group()
@click.version_option(package_name="rag")
def cli() -> None:
    """Cited answers over your own sources."""


@cli.group()
def index() -> None:
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
        sys.exit(EXIT_PARTIAL)


def _settings(**overrides: Any) -> Settings:
    return load_settings(**overrides)


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

    settings = _settings(index_dir=index_dir, embed_model=embed_model, max_file_mb=max_file_mb)
    _print_build(build_index(settings, reporter=reporter_for(as_json), **request), as_json)


@index.command("add")
@click.argument("paths", nargs=-1, required=True)
@build_command
def index_add(paths: tuple[str, ...], **options: Any) -> None:
    """Register files or folders (.txt .md .html .pdf .jsonl) and index them."""
    _build(add=paths, **options)


@index.command("rebuild")
@click.option("--full", is_flag=True, help="Re-read and re-embed everything.")
@build_command
def index_rebuild(full: bool, **options: Any) -> None:
    """Rescan registered locations; embed only new or changed passages; publish a new version."""
    _build(full=full, **options)


@index.command("remove")
@click.argument("items", nargs=-1, required=True)
@build_command
def index_remove(items: tuple[str, ...], **options: Any) -> None:
    """Unregister a location, or drop a source (by id or file path) and keep it out."""
    _build(remove=items, **options)


@index.command("status")
@index_option
@json_option
@handles_errors
def index_status(index_dir: Path | None, as_json: bool) -> None:
    """Version, counts, model, chunking and registered locations of the index."""
    from rag.index.info import index_status as status_of

    status = status_of(_settings(index_dir=index_dir))
    if as_json:
        emit_json(status.model_dump())
        return
    for key, value in status.rows():
        # Plain lines, not a table: paths must stay whole for copying and grepping.
        click.echo(f"{key:<11} " + value.replace("\n", "\n" + " " * 12))


@index.command("check")
@click.option(
    "--repair",
    is_flag=True,
    help="Publish a repaired version: keep sound vectors, re-embed the rest from SQLite.",
)
@index_option
@json_option
@handles_errors
def index_check(repair: bool, index_dir: Path | None, as_json: bool) -> None:
    """Verify that SQLite, FAISS, BM25 and the manifest agree (same passage ids and counts)."""
    from rag.index.mend import repair_index
    from rag.index.verify import check_index

    settings = _settings(index_dir=index_dir)
    report = (
        repair_index(settings, reporter=reporter_for(as_json)) if repair else check_index(settings)
    )
    if as_json:
        emit_json(report.model_dump())
    else:
        counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
        if report.repaired_from is not None:
            out.print(
                f"repaired version {report.repaired_from} as version {report.version}: "
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
            err.print("repair with `rag index check --repair`", highlight=False)
    if not report.ok:
        sys.exit(EXIT_PROBLEMS)


@cli.command("search")
@click.argument("question")
@click.option("-k", type=click.IntRange(1, 1000), default=None, help="Hits to return (default 10).")
@click.option(
    "--mode",
    type=click.Choice(["dense", "bm25", "hybrid"]),
    default=None,
    help="Retriever (default hybrid: reciprocal rank fusion of dense and BM25).",
)
@index_option
@json_option
@handles_errors
def search(
    question: str, k: int | None, mode: str | None, index_dir: Path | None, as_json: bool
) -> None:
    """Ranked passages for a question."""
    from rag.answer.question import clean_question
    from rag.retrieve.search import open_searcher

    settings = _settings(index_dir=index_dir, search_k=k, search_mode=mode)
    searcher = open_searcher(settings, need_embedder=settings.search.mode != "bm25")
    hits = searcher.search(clean_question(question, settings.answer.max_question_chars))
    if as_json:
        emit_json([hit.model_dump() for hit in hits])
        return
    if not hits:
        out.print("no passage matches")
    for hit in hits:
        flat = " ".join(hit.text.split())
        snippet = flat if len(flat) <= 300 else flat[:297] + "..."
        # Titles and text are the sources' own words: never read as markup.
        out.print(
            f"[bold]{hit.rank}.[/] [cyan]{escape(hit.title)}[/] [dim]({escape(hit.source_id)}, "
            f"{hit.retriever} {hit.score:.4f})[/]\n   {escape(snippet)}",
            highlight=False,
        )


@cli.command("ask")
@click.argument("question")
@click.option("-k", type=click.IntRange(1, 20), default=None, help="Passages for the model (4).")
@click.option("--model", default=None, help="litellm model string (RAG_LLM_MODEL).")
@click.option("--no-stream", is_flag=True, help="Print the answer only when it is complete.")
@index_option
@json_option
@handles_errors
def ask_command(
    question: str,
    k: int | None,
    model: str | None,
    no_stream: bool,
    index_dir: Path | None,
    as_json: bool,
) -> None:
    """Answer a question from the index, citing passages as [n]."""
    from rag.answer.answerer import ask

    settings = _settings(index_dir=index_dir, answer_k=k, llm_model=model)
    stream = not (as_json or no_stream)

    def show(token: str) -> None:
        click.echo(token, nl=False)

    def status(message: str) -> None:
        if not as_json:
            err.print(f"[dim]{message}[/]", highlight=False)

    if stream:
        err.print("[dim]draft (citations are checked when it is complete):[/]", highlight=False)
    answer = ask(question, settings=settings, on_token=show if stream else None, on_status=status)
    if as_json:
        emit_json(answer.model_dump())
        return
    if stream:
        click.echo()
    if answer.status == "accepted":
        out.print("[green]\u2713 accepted: every cited sentence is backed by its passage[/]")
        if not stream:
            click.echo(answer.text)
    else:
        note = {
            "repaired": "repaired: sentences that did not hold up were fixed or cut",
            "abstained": "abstained: the sources do not support an answer",
        }.get(answer.status, answer.status)
        out.print(f"\n[yellow]\u26a0 {note}[/]", highlight=False)
        for check in answer.dropped_sentences:
            out.print(
                f"  cut: {check.text} ({check.reason})", style="dim", highlight=False, markup=False
            )
        click.echo(answer.text)
    for note in answer.notes:
        err.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
    _print_sources(answer)


@cli.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--mode",
    type=click.Choice(["fast", "judge", "strict"]),
    default=None,
    help="fast layer only; judge where it is unsure (default); or the judge must also confirm "
    "every claim the fast layer passes.",
)
@click.option("--model", default=None, help="litellm model string of the judge.")
@json_option
@handles_errors
def validate_command(file: Path, mode: str | None, model: str | None, as_json: bool) -> None:
    """Check cited answers: one {"answer", "passages": [{"n", "text"}]} JSON object a line."""
    from pydantic import ValidationError

    from rag.embed.encoder import load_embedder
    from rag.types import ValidationRequest, line_problem
    from rag.validate.judge import LLMJudge
    from rag.validate.validator import Validator

    settings = _settings(validate_mode=mode, judge_model=model)
    judge = None if settings.validator.mode == "fast" else LLMJudge(settings)
    validator = Validator(settings, load_embedder(settings), judge=judge)
    failed = 0
    batch: list[tuple[int, ValidationRequest]] = []

    def flush() -> None:
        verdicts = validator.check_many(
            [(r.answer, {p.n: p.text for p in r.passages}) for _, r in batch]
        )
        for (line, _), verdict in zip(batch, verdicts, strict=True):
            if as_json:
                click.echo(verdict.model_dump_json())
            else:
                mark = "accepted" if verdict.accepted else "rejected"
                details = "".join(f"\n  {p}" for p in verdict.problems)
                click.echo(f"line {line}: {mark}{details}")
        batch.clear()

    with file.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                batch.append((line_no, ValidationRequest.model_validate_json(line)))
            except ValidationError as exc:
                failed += 1
                message = (
                    f"{line_problem(f'{file}:{line_no}', exc)}; each line needs "
                    '{"answer": "...", "passages": [{"n": 1, "text": "..."}]}'
                )
                if as_json:
                    click.echo(json.dumps({"error": "InputError", "message": message}))
                else:
                    err.print(message, markup=False, highlight=False)
            if len(batch) >= 64:
                flush()
    if batch:
        flush()
    if failed:
        sys.exit(3)


def _print_sources(answer: Answer) -> None:
    out.print("\n[bold]Sources[/]", highlight=False)
    if not answer.citations:
        out.print("(the answer cites no passage)", highlight=False)
    for c in answer.citations:
        where = c.url or c.path or c.source_id
        date = f" ({c.date})" if c.date else ""
        out.print(f"[{c.n}] {c.title}{date}\n    {where}", highlight=False, markup=False)
    t = answer.timings
    out.print(
        f"[dim]{answer.status}; {answer.model}; first token {t.get('first_token', 0):.1f} s, "
        f"total {t.get('total', 0):.1f} s; checked on {answer.checked_on}[/]",
        highlight=False,
    )


cli.add_command(eval_group)
cli.add_command(serve_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="rag")


if __name__ == "__main__":
    main()
