"""`rag search`, `rag ask` and `rag validate`: passages for a question, a checked answer, and
the validator on answers written elsewhere."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from rag.cli.common import (
    ExitCode,
    emit_json,
    err,
    error_json,
    exit_with,
    handles_errors,
    index_option,
    json_option,
    out,
    runtime,
)
from rag.config import load_settings
from rag.errors import InputLineError
from rag.types import Answer, CheckedSection


@click.command("search")
@click.argument("question")
@click.option("-k", type=click.IntRange(1, 1000), default=None, help="Hits to return (default 10).")
@click.option(
    "--mode",
    type=click.Choice(["dense", "bm25", "hybrid"]),
    default=None,
    help="Retriever (default hybrid: dense and BM25 fused, then the title links).",
)
@index_option
@json_option
@handles_errors
def search_command(
    question: str, k: int | None, mode: str | None, index_dir: Path | None, as_json: bool
) -> None:
    """Ranked passages for a question."""
    from rag.answer.question import clean_question
    from rag.retrieve.search import open_searcher

    settings = load_settings(index_dir=index_dir, search_k=k, search_mode=mode)
    given = runtime()
    dense = settings.search.mode != "bm25"
    embedder = given.embedder
    if embedder is None and dense:
        from rag.embed.query import open_query_encoder

        embedder = open_query_encoder(settings)  # None until the full encoder has checked it
    searcher = open_searcher(settings, embedder, need_embedder=dense, models=given.chat_models())
    hits = searcher.search(clean_question(question, settings.answer.max_question_chars))
    if as_json:
        emit_json([hit.model_dump() for hit in hits])
        return
    if not hits and not searcher.reader.manifest.passages:
        out.print(
            f"index version {searcher.reader.version} at {settings.index.dir} holds no passages "
            "yet; add sources with `rag index add PATH`",
            highlight=False,
        )
    elif not hits:
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


@click.command("ask")
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
    from rag.answer.answerer import open_answerer
    from rag.answer.question import clean_question

    settings = load_settings(index_dir=index_dir, answer_k=k, llm_model=model)
    clean_question(question, settings.answer.max_question_chars)  # refused before any loading
    stream = not (as_json or no_stream)

    drafting = False

    def show(token: str) -> None:
        nonlocal drafting
        if not drafting:  # the draft is labelled as what it is before its first word
            err.print("[dim]draft (its citations are checked when it is complete):[/]")
            drafting = True
        click.echo(token, nl=False)

    def progress(message: str) -> None:
        nonlocal drafting
        if drafting:  # the streamed draft's last line ends before the next message
            click.echo()
            drafting = False
        # On stderr, with --json too: a first answer can take minutes.
        err.print(f"[dim]{escape(message)}…[/]", highlight=False)

    sectioned = 0

    def show_section(section: CheckedSection) -> None:
        nonlocal sectioned
        progress(f"section {section.n} checked")
        click.echo(f"\n## {section.n}. {section.heading}\n{section.text}")
        sectioned = section.n

    given = runtime()
    answerer = open_answerer(
        settings, embedder=given.embedder, models=given.chat_models(), on_progress=progress
    )
    by_section = settings.answer.compose == "sections"
    answer = answerer.ask(
        question,
        # Sections are shown once checked; a single draft streams as it is written.
        on_token=show if stream and not by_section else None,
        on_progress=progress,
        on_section=show_section if stream and by_section else None,
    )
    if as_json:
        emit_json(answer.model_dump())
        return
    if drafting:
        click.echo()
    if sectioned and answer.status != "abstained":
        # The checked sections are on screen: what was composed from them follows.
        click.echo(_composed(answer))
        _print_status(answer)
    elif answer.status == "accepted":
        out.print("[green]\u2713 accepted: every cited sentence is backed by its passage[/]")
        if not stream:
            click.echo(answer.text)
    else:
        note = {
            "repaired": "repaired: sentences that did not hold up were fixed or cut",
            "abstained": "abstained: the sources do not support an answer",
        }.get(answer.status, answer.status)
        out.print(f"\n[yellow]\u26a0 {note}[/]", highlight=False)
        _print_cuts(answer)
        click.echo(answer.text)
    _print_notes_and_sources(answer)


def _composed(answer: Answer) -> str:
    """The parts composed after the sections: summary, bottom line, limits, follow-ups."""
    from rag.answer.shape import render_answer

    return "\n" + render_answer(answer.sections.model_copy(update={"sections": []})).rstrip()


def _print_status(answer: Answer) -> None:
    if answer.status == "accepted":
        out.print("\n[green]\u2713 accepted: every cited sentence is backed by its passage[/]")
        return
    moved = sum(c.reattributed for c in answer.checks)
    out.print(
        f"\n[yellow]\u26a0 repaired: {len(answer.dropped_sentences)} sentence(s) that did not "
        f"hold up were cut, {moved} given the passage that holds them[/]",
        highlight=False,
    )
    _print_cuts(answer)


def _print_cuts(answer: Answer) -> None:
    for check in answer.dropped_sentences:
        out.print(
            f"  cut: {check.text} ({check.reason})", style="dim", highlight=False, markup=False
        )


def _print_notes_and_sources(answer: Answer) -> None:
    for note in answer.notes:
        err.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
    _print_sources(answer)


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


@click.command("validate")
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
    """Check cited answers: one {"answer", "passages": [{"n", "text"}]} JSON object a line.
    Exits 5 if any answer is rejected, 3 if a line could not be read."""
    from pydantic import ValidationError

    from rag.answer.answerer import open_validator
    from rag.embed.encoder import load_embedder
    from rag.text import cited_text
    from rag.types import ValidationRequest, line_problem
    from rag.validate.validator import CheckRun

    settings = load_settings(validate_mode=mode, judge_model=model)
    given = runtime()
    embedder = given.embedder or load_embedder(settings)
    validator = open_validator(settings, embedder, given.chat_models())
    run = CheckRun()  # once the judge fails, the claims it should settle are refused
    failed = rejected = 0
    batch: list[tuple[int, ValidationRequest]] = []

    def flush() -> None:
        verdicts = validator.check_many(
            [
                (r.answer, {p.n: cited_text(p.title, p.text, p.date) for p in r.passages})
                for _, r in batch
            ],
            run,
        )
        nonlocal rejected
        for (line, _), verdict in zip(batch, verdicts, strict=True):
            rejected += not verdict.accepted
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
                    click.echo(error_json(InputLineError.code, message))
                else:
                    err.print(message, markup=False, highlight=False)
            if len(batch) >= 64:
                flush()
    if batch:
        flush()
    if rejected:
        exit_with(ExitCode.PROBLEMS)  # scripts can tell: some answer did not hold up
    if failed:
        exit_with(ExitCode.PARTIAL)
