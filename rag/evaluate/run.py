"""Evaluate: a gold set -> per-question records (results.jsonl, written as they come, so a rerun
continues), metrics.json and report.html in one run folder."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rag.answer.answerer import Answerer, open_answerer
from rag.config import Settings
from rag.embed import Embedder
from rag.errors import ConfigError, DiskFullError, RagError, out_of_space
from rag.evaluate.gold import file_sha256, load_gold, select
from rag.evaluate.scoring import RECALL_KS, SupportCheck, answer_scores, retrieval_scores, summarize
from rag.index.build import build_index
from rag.llm.model import ModelFactory
from rag.llm.providers import open_model
from rag.progress import Reporter, Silent
from rag.retrieve.search import Searcher, open_searcher
from rag.store import IndexReader
from rag.types import EvalRecord, GoldQuestion, RunInfo

RESULTS, METRICS, RUN, REPORT = "results.jsonl", "metrics.json", "run.json", "report.html"
# RunInfo fields that may differ between a run and its resumption.
_MAY_CHANGE = {"gold", "started"}
# Settings that change what an index holds: part of the cache key of a --corpus index.
_BUILD_FIELDS = {
    "embed_model",
    "embed_precision",
    "embed_titles",
    "bm25_titles",
    "chunk_target_words",
    "chunk_max_words",
    "chunk_min_words",
    "chunk_overlap_words",
    "ann_threshold",
    "store",
    "milvus_uri",
    "milvus_collection",
    "ann_target_recall",
    "ann_sample",
}


def corpus_index(
    corpus: Path, settings: Settings, embedder: Embedder | None, reporter: Reporter
) -> tuple[Settings, str]:
    """Settings pointing at an index of `corpus`, built once per content and build settings
    under the cache folder and reused after; and the corpus's sha256."""
    if not corpus.is_file():
        raise ConfigError(f"corpus {corpus} is not a file; give a corpus .jsonl with --corpus")
    digest = file_sha256(corpus)
    recipe = json.dumps(
        [digest, {k: v for k, v in settings.flat().items() if k in _BUILD_FIELDS}], sort_keys=True
    )
    key = hashlib.sha256(recipe.encode()).hexdigest()[:16]
    indexed = settings.updated(index_dir=settings.local.cache_dir / "eval-indexes" / key)
    try:
        IndexReader.open(indexed.index.dir, indexed.store.token).close()
    except RagError:
        build_index(indexed, add=[str(corpus.resolve())], embedder=embedder, reporter=reporter)
    return indexed, digest


def default_out(gold: Path, model: str | None) -> Path:
    """eval-runs/<gold set>-<model or 'retrieval'>: the same command resumes the same run."""
    name = gold.parent.name if gold.stem == "gold" else gold.stem
    tail = (model or "retrieval").replace("/", "-").replace(":", "-")
    return Path("eval-runs") / f"{name}-{tail}"


def _read_done(path: Path) -> dict[str, EvalRecord]:
    """Records already on disk (also of questions outside this run's --limit, which are kept);
    failed and half-written lines are left out, to be redone."""
    done: dict[str, EvalRecord] = {}
    if not path.is_file():
        return done
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = EvalRecord.model_validate_json(line)
        except ValidationError:
            continue  # a line cut short when the run was stopped
        if not record.error:
            done[record.id] = record
    return done


def _check_resumable(out: Path, info: RunInfo) -> RunInfo:
    """The run's info: a new one, or the stored one if it matches `info`; refuse a mismatch."""
    stored_path = out / RUN
    if not stored_path.is_file():
        return info
    stored = RunInfo.model_validate_json(stored_path.read_text(encoding="utf-8"))
    new, old = info.model_dump(exclude=_MAY_CHANGE), stored.model_dump(exclude=_MAY_CHANGE)
    differ = [f"{k}: {old[k]} -> {new[k]}" for k in new if new[k] != old[k]]
    if differ:
        raise ConfigError(
            f"{out} holds a run made differently ({'; '.join(differ)}); give another --out, "
            f"or delete {out} to start over"
        )
    return stored


@dataclass
class EvalRun:
    """A finished (or resumed and finished) evaluation run."""

    out: Path
    info: RunInfo
    records: list[EvalRecord]
    metrics: dict[str, Any]
    skipped: list[str]
    resumed: int


Evaluator = Callable[[GoldQuestion], EvalRecord]


class QuestionRunner:
    """Searches (and answers) one gold question and scores it; called from several threads."""

    def __init__(
        self, searcher: Searcher, answerer: Answerer | None, reporter: Reporter | None = None
    ) -> None:
        """`reporter` hears what the question under way is doing (a question with the
        embedded model takes tens of seconds)."""
        self.searcher = searcher
        self.answerer = answerer
        self.reporter = reporter or Silent()
        # A support check per worker thread: what the judge did is tallied per check.
        self._local = threading.local()

    def _support(self) -> SupportCheck:
        if not hasattr(self._local, "check"):
            assert self.answerer is not None
            self._local.check = SupportCheck(self.answerer.validator)
        return self._local.check  # type: ignore[no-any-return]

    def __call__(self, gold: GoldQuestion) -> EvalRecord:
        started = time.perf_counter()
        record = EvalRecord(
            id=gold.id,
            question=gold.question,
            answerable=gold.answerable,
            gold_answers=gold.answers,
            evidence=gold.evidence,
        )
        try:
            hits = self.searcher.search(gold.question, k=max(RECALL_KS))
            record.ranked_sources = [h.source_id for h in hits]
            record.retrieval = retrieval_scores(record.ranked_sources, gold.evidence)
            if self.answerer is not None:
                record.answer = self.answerer.ask(
                    gold.question, on_progress=partial(self._note, gold.id)
                )
                record.scores = answer_scores(gold, record.answer, self._support())
        except RagError as exc:
            # Recorded, not raised: one failing question must not end a long run; it is retried
            # when the run is resumed.
            record.error = f"{type(exc).__name__}: {exc}"
        record.seconds = round(time.perf_counter() - started, 3)
        return record

    def _note(self, question_id: str, message: str) -> None:
        self.reporter.note(f"{question_id}: {message}")


def run_eval(
    gold_path: Path,
    settings: Settings,
    corpus: Path | None = None,
    limit: int | None = None,
    unanswerable: int | None = None,
    retrieval_only: bool = False,
    out: Path | None = None,
    embedder: Embedder | None = None,
    reporter: Reporter | None = None,
    models: ModelFactory = open_model,
) -> EvalRun:
    """Evaluate the gold questions against the index (or an index of `corpus`); results are
    appended to OUT/results.jsonl as they come and a rerun with the same arguments continues.
    `embedder` is the encoder (default: the configured one), `models` opens the chat models."""
    reporter = reporter or Silent()
    gold = load_gold(gold_path)
    questions = select(gold.questions, limit, unanswerable)
    corpus_sha = None
    if corpus is not None:
        settings, corpus_sha = corpus_index(corpus, settings, embedder, reporter)
    model = None if retrieval_only else settings.llm.model
    out = out or default_out(gold_path, model)
    searcher = open_searcher(settings, embedder, models=models)
    info = _check_resumable(
        out,
        RunInfo(
            gold=str(gold_path),
            gold_sha256=file_sha256(gold_path),
            index_dir=str(settings.index.dir),
            index_version=searcher.reader.version,
            corpus_sha256=corpus_sha,
            retrieval_only=retrieval_only,
            model=model,
            validate_mode=settings.validator.mode,
            search_mode=settings.search.mode,
            answer_k=settings.answer.k,
            started=datetime.now(UTC).isoformat(timespec="seconds"),
        ),
    )
    # A missing key fails here, before anything is written, not once per question.
    answerer = None
    if model is not None:
        answerer = open_answerer(
            settings, searcher=searcher, models=models, on_progress=reporter.note
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / RUN).write_text(info.model_dump_json(indent=2) + "\n", encoding="utf-8")
    results = out / RESULTS
    done = _read_done(results)
    # Rewritten with only what is kept, so failed or half-written lines do not pile up; into a
    # new file first, so a full disk never costs the results already there.
    _replace(results, "".join(r.model_dump_json() + "\n" for r in done.values()))
    todo = [q for q in questions if q.id not in done]
    evaluate = QuestionRunner(searcher, answerer, reporter)
    lock = threading.Lock()
    with reporter.task(f"evaluating {len(questions)} questions", len(questions)) as tick:
        tick(len(questions) - len(todo))
        try:
            with results.open("a", encoding="utf-8") as fh:
                for record in _map(evaluate, todo, workers(settings, answerer)):
                    with lock:
                        fh.write(record.model_dump_json() + "\n")
                        fh.flush()
                    done[record.id] = record
                    tick()
        except OSError as exc:
            if out_of_space(exc):
                raise _disk_full(out) from exc
            raise
    searcher.reader.close()
    records = [done[q.id] for q in questions if q.id in done]
    metrics = summarize(records) | {"run": info.model_dump()}
    (out / METRICS).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    from rag.evaluate.report import write_report

    write_report(out / REPORT, info, metrics, records)
    return EvalRun(out, info, records, metrics, gold.skipped, resumed=len(questions) - len(todo))


def _replace(path: Path, text: str) -> None:
    """`path` holds `text`, or (when writing fails) what it held before."""
    fresh = path.with_name(path.name + ".new")
    try:
        fresh.write_text(text, encoding="utf-8")
    except OSError as exc:
        fresh.unlink(missing_ok=True)
        if out_of_space(exc):
            raise _disk_full(path.parent) from exc
        raise
    os.replace(fresh, path)


def _disk_full(out: Path) -> DiskFullError:
    return DiskFullError(
        f"no space left on the disk holding {out}; the answers written so far are kept (a "
        "half-written last line is dropped when the run continues); free space there and run "
        "the same command again: it continues where it stopped"
    )


def workers(settings: Settings, answerer: Answerer | None) -> int:
    """Questions evaluated at once: RAG_EVAL_WORKERS, else as many as the model serves at once
    (the embedded engine: one), and one for retrieval only."""
    if settings.evaluate.workers is not None:
        return settings.evaluate.workers
    return answerer.model.calls_at_once if answerer is not None else 1


def _map(evaluate: Evaluator, todo: list[GoldQuestion], n: int) -> Iterator[EvalRecord]:
    """Records as they finish, in order of completion."""
    if n <= 1:
        yield from map(evaluate, todo)
        return
    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(evaluate, q) for q in todo]
        for future in as_completed(futures):
            yield future.result()
