"""Evaluate: a gold set -> per-question records (results.jsonl, written as they come, so a rerun
continues), metrics.json and report.html in one run folder."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rag.config import Settings
from rag.embed import Embedder
from rag.errors import ConfigError, RagError
from rag.evaluate.scoring import RECALL_KS, SupportCheck, answer_scores, retrieval_scores, summarize
from rag.index.build import build_index
from rag.progress import Reporter, Silent
from rag.retrieve.search import Searcher, open_searcher
from rag.store import IndexReader
from rag.types import EvalRecord, GoldQuestion, RunInfo, line_problem
from rag.validate.judge import LLMJudge
from rag.validate.validator import Validator

RESULTS, METRICS, RUN, REPORT = "results.jsonl", "metrics.json", "run.json", "report.html"
# RunInfo fields that may differ between a run and its resumption.
_MAY_CHANGE = {"gold", "started"}
# Settings that change what an index holds: part of the cache key of a --corpus index.
_BUILD_FIELDS = {
    "embed_model",
    "embed_precision",
    "embed_titles",
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


@dataclass
class GoldSet:
    """The questions read from a gold file, and the lines that could not be read."""

    questions: list[GoldQuestion]
    skipped: list[str] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_gold(path: Path) -> GoldSet:
    """The gold questions of a JSONL file; unreadable lines and repeated ids are reported (as
    file:line: problem) and skipped, the rest kept."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text; save the gold set as UTF-8 JSONL") from exc
    out = GoldSet(questions=[])
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            question = GoldQuestion.model_validate_json(line)
        except ValidationError as exc:
            out.skipped.append(line_problem(f"{path}:{number}", exc))
            continue
        if question.id in seen:
            out.skipped.append(f"{path}:{number}: id {question.id!r} repeats an earlier line")
            continue
        seen.add(question.id)
        out.questions.append(question)
    if not out.questions:
        raise ConfigError(
            f"{path} has no readable gold question; each line needs "
            '{"id": "...", "question": "...", "answers": [...], "evidence": [...], '
            '"answerable": true}'
        )
    return out


def select(
    questions: list[GoldQuestion], limit: int | None, unanswerable: int | None
) -> list[GoldQuestion]:
    """The first `limit` questions in file order; with `unanswerable`, that many of them are
    unanswerable ones (the first in file order) and the rest answerable."""
    if unanswerable is None:
        return questions[:limit] if limit is not None else questions
    total = limit if limit is not None else len(questions)
    no = [q for q in questions if not q.answerable][:unanswerable]
    yes = [q for q in questions if q.answerable][: max(0, total - len(no))]
    chosen = {q.id for q in yes + no}
    return [q for q in questions if q.id in chosen]


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


def _evaluator(
    settings: Settings,
    searcher: Searcher,
    retrieval_only: bool,
    litellm_kwargs: dict[str, Any] | None,
    judge_kwargs: dict[str, Any] | None,
) -> Evaluator:
    from rag.answer.answerer import ask

    local = threading.local()  # a validator per worker: its vector cache is not thread-safe

    def check() -> SupportCheck:
        if not hasattr(local, "check"):
            judge = (
                None
                if settings.validator.mode == "fast"
                else LLMJudge(settings, litellm_kwargs=judge_kwargs)
            )
            assert searcher.embedder is not None
            local.check = SupportCheck(Validator(settings, searcher.embedder, judge))
        return local.check  # type: ignore[no-any-return]

    def evaluate(gold: GoldQuestion) -> EvalRecord:
        started = time.perf_counter()
        record = EvalRecord(
            id=gold.id,
            question=gold.question,
            answerable=gold.answerable,
            gold_answers=gold.answers,
            evidence=gold.evidence,
        )
        try:
            hits = searcher.search(gold.question, k=max(RECALL_KS))
            record.ranked_sources = [h.source_id for h in hits]
            record.retrieval = retrieval_scores(record.ranked_sources, gold.evidence)
            if not retrieval_only:
                record.answer = ask(
                    gold.question,
                    settings=settings,
                    searcher=searcher,
                    litellm_kwargs=litellm_kwargs,
                    judge_kwargs=judge_kwargs,
                )
                record.scores = answer_scores(gold, record.answer, check())
        except RagError as exc:
            # Recorded, not raised: one failing question must not end a long run; it is retried
            # when the run is resumed.
            record.error = f"{type(exc).__name__}: {exc}"
        record.seconds = round(time.perf_counter() - started, 3)
        return record

    return evaluate


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
    litellm_kwargs: dict[str, Any] | None = None,
    judge_kwargs: dict[str, Any] | None = None,
) -> EvalRun:
    """Evaluate the gold questions against the index (or an index of `corpus`); results are
    appended to OUT/results.jsonl as they come and a rerun with the same arguments continues."""
    reporter = reporter or Silent()
    gold = load_gold(gold_path)
    questions = select(gold.questions, limit, unanswerable)
    corpus_sha = None
    if corpus is not None:
        settings, corpus_sha = corpus_index(corpus, settings, embedder, reporter)
    model = None if retrieval_only else settings.llm.model
    if model is not None:
        from rag.llm.providers import check_provider

        check_provider(model)  # a missing key fails here, not once per question
    out = out or default_out(gold_path, model)
    if embedder is not None:
        searcher = Searcher(
            IndexReader.open(settings.index.dir, settings.store.token), settings, embedder
        )
    else:
        searcher = open_searcher(settings)
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
    out.mkdir(parents=True, exist_ok=True)
    (out / RUN).write_text(info.model_dump_json(indent=2) + "\n", encoding="utf-8")
    results = out / RESULTS
    done = _read_done(results)
    # Rewritten with only what is kept, so failed or half-written lines do not pile up.
    results.write_text("".join(r.model_dump_json() + "\n" for r in done.values()), "utf-8")
    todo = [q for q in questions if q.id not in done]
    evaluate = _evaluator(settings, searcher, retrieval_only, litellm_kwargs, judge_kwargs)
    lock = threading.Lock()
    with reporter.task(f"evaluating {len(questions)} questions", len(questions)) as tick:
        tick(len(questions) - len(todo))
        with results.open("a", encoding="utf-8") as fh:
            for record in _map(evaluate, todo, workers(settings, retrieval_only)):
                with lock:
                    fh.write(record.model_dump_json() + "\n")
                    fh.flush()
                done[record.id] = record
                tick()
    searcher.reader.close()
    records = [done[q.id] for q in questions if q.id in done]
    metrics = summarize(records) | {"run": info.model_dump()}
    (out / METRICS).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    from rag.evaluate.report import write_report

    write_report(out / REPORT, info, metrics, records)
    return EvalRun(out, info, records, metrics, gold.skipped, resumed=len(questions) - len(todo))


def workers(settings: Settings, retrieval_only: bool) -> int:
    """Questions evaluated at once: RAG_EVAL_WORKERS, else 1 for the embedded model (one engine
    serves one request at a time) and for retrieval only, 4 for a provider."""
    if settings.evaluate.workers is not None:
        return settings.evaluate.workers
    if retrieval_only or settings.llm.model.startswith("local/"):
        return 1
    return 4


def _map(evaluate: Evaluator, todo: list[GoldQuestion], n: int) -> Iterator[EvalRecord]:
    """Records as they finish, in order of completion."""
    if n <= 1:
        yield from map(evaluate, todo)
        return
    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(evaluate, q) for q in todo]
        for future in as_completed(futures):
            yield future.result()
