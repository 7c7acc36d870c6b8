"""`rag eval GOLD.jsonl ...` and `rag eval compare RUN_A RUN_B`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from rag.cli.common import (
    ExitCode,
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
from rag.evaluate.metrics import metric_text


class _RunByDefault(click.Group):
    """`rag eval GOLD ...` runs an evaluation; `rag eval compare A B` compares two runs."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """`rag eval --help` is the help of `rag eval GOLD.jsonl`, then how to compare."""
        run, compare = self.commands["run"], self.commands["compare"]
        with click.Context(run, info_name=ctx.info_name, parent=ctx.parent) as shown:
            run.format_help(shown, formatter)
        with formatter.section("Comparing two runs"):
            formatter.write_text(
                f"rag eval compare RUN_A RUN_B [--json]: {compare.get_short_help_str(200)}"
            )


@click.group("eval", cls=_RunByDefault)
def eval_group() -> None:
    """Evaluate answers against a gold set: `rag eval GOLD.jsonl`, `rag eval compare A B`."""


def _metrics_table(metrics: dict[str, Any]) -> Table:
    table = Table(title="rag eval", show_lines=False)
    table.add_column("group")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for group in ("retrieval", "answers", "abstention", "citations", "depth", "cost"):
        for key, value in (metrics.get(group) or {}).items():
            if isinstance(value, dict):
                value = ", ".join(f"{k} {v}" for k, v in value.items()) or "-"
            table.add_row(group, key, metric_text(value))
    return table


@eval_group.command("run")
@click.argument("gold", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--corpus",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Corpus JSONL to evaluate on: indexed once (cached by content hash) and reused.",
)
@click.option("--limit", type=click.IntRange(1), default=None, help="First N questions only.")
@click.option(
    "--unanswerable",
    type=click.IntRange(0),
    default=None,
    help="Of the questions taken, this many unanswerable (the first in file order).",
)
@click.option("--retrieval-only", is_flag=True, help="Score retrieval only; no answers.")
@click.option("--model", default=None, help="litellm model string (RAG_LLM_MODEL).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Run folder (default eval-runs/<gold set>-<model>); rerunning continues it.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Questions at once (RAG_EVAL_WORKERS; default 1 for the embedded model, 4 otherwise).",
)
@index_option
@json_option
@handles_errors
def eval_run(
    gold: Path,
    corpus: Path | None,
    limit: int | None,
    unanswerable: int | None,
    retrieval_only: bool,
    model: str | None,
    out_dir: Path | None,
    workers: int | None,
    index_dir: Path | None,
    as_json: bool,
) -> None:
    """Answer (or only search) every gold question and score retrieval, answers, abstention,
    citations and cost; writes results.jsonl, metrics.json and report.html to the run folder."""
    from rag.evaluate.run import REPORT, run_eval

    if corpus is not None and index_dir is not None:
        raise click.UsageError("give --corpus or --index, not both")
    settings = load_settings(index_dir=index_dir, llm_model=model, eval_workers=workers)
    given = runtime()
    run = run_eval(
        gold,
        settings,
        corpus=corpus,
        limit=limit,
        unanswerable=unanswerable,
        retrieval_only=retrieval_only,
        out=out_dir,
        reporter=reporter_for(as_json),
        embedder=given.embedder,
        models=given.chat_models(),
    )
    failed = [r for r in run.records if r.error]
    if as_json:
        emit_json(
            {
                "out": str(run.out),
                "resumed": run.resumed,
                "skipped_lines": run.skipped,
                "failed": [{"id": r.id, "error": r.error} for r in failed],
                "metrics": run.metrics,
            }
        )
    else:
        for line in run.skipped:
            err.print(f"[yellow]skipped[/] {escape(line)}", highlight=False)
        for r in failed:
            err.print(f"[yellow]failed[/] {escape(r.id)}: {escape(r.error)}", highlight=False)
        out.print(_metrics_table(run.metrics))
        resumed = f" ({run.resumed} from an earlier run)" if run.resumed else ""
        out.print(
            f"{len(run.records)} questions{resumed}; report: {run.out / REPORT}", highlight=False
        )
    if failed or run.skipped:
        exit_with(ExitCode.PARTIAL)


@eval_group.command("compare")
@click.argument("run_a", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("run_b", type=click.Path(exists=True, file_okay=False, path_type=Path))
@json_option
@handles_errors
def eval_compare(run_a: Path, run_b: Path, as_json: bool) -> None:
    """Metric deltas (B - A) side by side, and the questions that flipped."""
    from rag.evaluate.compare import compare_runs

    found = compare_runs(run_a, run_b)
    if as_json:
        emit_json(found)
        return
    table = Table(title=f"{run_a} -> {run_b}")
    for name, justify in (("metric", "left"), ("A", "right"), ("B", "right"), ("B - A", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in found["metrics"]:
        if row["a"] == row["b"]:
            continue
        cells = [row[k] for k in ("a", "b", "delta")]
        table.add_row(row["metric"], *("-" if c is None else f"{c:.4g}" for c in cells))
    out.print(table)
    unchanged = sum(r["a"] == r["b"] for r in found["metrics"])
    out.print(f"{unchanged} metrics unchanged; {found['common_questions']} questions in both")
    for title, key in (("now right", "now_right"), ("now wrong", "now_wrong")):
        out.print(f"[bold]{title}[/]: {len(found[key])}", highlight=False)
        for q in found[key]:
            out.print(
                f"  {q['id']}: {q['question']} ({q['a_status']} -> {q['b_status']})",
                highlight=False,
                markup=False,
            )
