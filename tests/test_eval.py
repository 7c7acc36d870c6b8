"""rag eval: gold loading, a scored run with a scripted model, resuming, refusing a different
run, the report and the comparison of two runs."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers.data import write_corpus
from helpers.fakes import HashEmbedder, ScriptedLiteLLM, scripted_models

from rag.cli.app import cli
from rag.cli.common import Runtime
from rag.config import DEFAULT_EMBED_MODEL, Settings, load_settings
from rag.errors import ConfigError
from rag.evaluate.compare import compare_runs, flatten
from rag.evaluate.gold import load_gold, select
from rag.evaluate.metrics import metric_text
from rag.evaluate.run import RESULTS, run_eval
from rag.evaluate.scoring import correct

# These tests hold the one-draft path: its draft, repair round and streamed tokens.
COMPOSE = "single"

CORPUS = [
    {
        "id": "chief",
        "title": "Chief statement",
        "text": "The police chief said officers do not cooperate with ICE agents.",
    },
    {
        "id": "council",
        "title": "Council vote",
        "text": "The city council voted unanimously to strengthen the separation ordinance.",
    },
    {"id": "river", "title": "River cleanup", "text": "Volunteers cleaned the river banks."},
]
GOLD = [
    {
        "id": "q-chief",
        "question": "Do police chief officers cooperate with ICE agents?",
        "answers": ["do not cooperate"],
        "evidence": ["chief"],
        "answerable": True,
        "type": "extra fields are kept and ignored",
    },
    {
        "id": "q-council",
        "question": "How did the city council vote on the separation ordinance?",
        "answers": ["unanimously"],
        "evidence": ["council"],
        "answerable": True,
    },
    {
        "id": "q-none",
        "question": "What did the volunteers eat at the river banks?",
        "answers": [],
        "evidence": [],
        "answerable": False,
    },
]
# Cites the top passage as [1]: true for q-chief only; the others end cut down or abstained.
REPLY = "## Summary\nNo. The police chief said officers do not cooperate with ICE agents [1].\n"
OFF = "## Summary\nOfficers patrol the harbor every night with federal agents [1].\n"


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    corpus = write_corpus(tmp_path / "corpus.jsonl", CORPUS)
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps(g) + "\n" for g in GOLD), encoding="utf-8")
    return gold, corpus


@pytest.fixture
def eval_settings(tmp_path: Path) -> Settings:
    return load_settings(
        index_dir=tmp_path / "unused",
        local_cache_dir=tmp_path / "cache",
        validate_mode="fast",
        llm_model="openai/gpt-4o-mini",
        answer_k=1,
        eval_workers=1,
    )


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> ScriptedLiteLLM:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    return ScriptedLiteLLM([], reply=REPLY)


def _run(
    files: tuple[Path, Path], settings: Settings, model: ScriptedLiteLLM, out: Path, **kw: Any
) -> Any:
    gold, corpus = files
    embedder = HashEmbedder(model_id=DEFAULT_EMBED_MODEL)
    models = scripted_models(model)
    return run_eval(gold, settings, corpus=corpus, out=out, embedder=embedder, models=models, **kw)


def test_gold_lines_that_cannot_be_read_are_reported_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    lines = [json.dumps(GOLD[0]), "{not json", json.dumps({"id": "x"}), json.dumps(GOLD[0])]
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    gold = load_gold(path)
    assert [q.id for q in gold.questions] == ["q-chief"]
    assert gold.questions[0].model_extra == {"type": "extra fields are kept and ignored"}
    assert [s.split(": ", 1)[0] for s in gold.skipped] == [f"{path}:2", f"{path}:3", f"{path}:4"]
    assert "question" in gold.skipped[1] and "repeats" in gold.skipped[2]
    path.write_text("{}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no readable gold question"):
        load_gold(path)


@pytest.mark.parametrize(
    ("limit", "unanswerable", "expected"),
    [
        (None, None, ["q-chief", "q-council", "q-none"]),
        (2, None, ["q-chief", "q-council"]),
        (2, 1, ["q-chief", "q-none"]),  # one unanswerable, the rest answerable, file order
        (None, 0, ["q-chief", "q-council"]),
    ],
)
def test_select(
    files: tuple[Path, Path], limit: int | None, unanswerable: int | None, expected: list[str]
) -> None:
    questions = load_gold(files[0]).questions
    assert [q.id for q in select(questions, limit, unanswerable)] == expected


def test_run_scores_every_stage(
    files: tuple[Path, Path], eval_settings: Settings, model: ScriptedLiteLLM, tmp_path: Path
) -> None:
    run = _run(files, eval_settings, model, tmp_path / "run")
    by_id = {r.id: r for r in run.records}
    chief, council, none = by_id["q-chief"], by_id["q-council"], by_id["q-none"]
    assert chief.ranked_sources[0] == "chief" and chief.retrieval["recall@1"] == 1.0
    assert none.retrieval == {}  # no evidence: not part of the retrieval means
    assert chief.answer is not None and chief.answer.status == "accepted"
    assert chief.scores["contained"] == 1.0 and chief.scores["citation_recall"] == 1.0
    assert chief.scores["revalidated"] == 1.0 and chief.scores["abstained"] == 0.0
    # The same reply cites the council's passage for the chief's words: not supported.
    assert council.answer is not None and council.answer.status == "abstained"
    assert council.scores["contained"] == 0.0 and council.scores["draft_citation_recall"] == 0.0
    assert none.scores["abstained"] == 1.0 and correct(none) is True
    m = run.metrics
    assert m["questions"] == 3 and m["failed"] == 0
    assert m["retrieval"]["questions"] == 2 and m["retrieval"]["recall@1"] == 1.0
    assert m["answers"]["contained"] == 0.5 and m["answers"]["questions"] == 2
    assert m["answers"]["draft_contained"] == 0.5  # the draft had it for q-chief only
    # Abstained on q-council (answerable) and q-none: precision 1/2, recall 1/1.
    assert m["abstention"]["precision"] == 0.5 and m["abstention"]["recall"] == 1.0
    assert m["citations"]["status"] == {"accepted": 1, "abstained": 2}
    assert m["cost"]["completion_tokens_total"] > 0 and m["cost"]["total_p50_s"] is not None
    on_disk = json.loads((run.out / "metrics.json").read_text())
    assert flatten(on_disk) == flatten(m)
    lines = (run.out / RESULTS).read_text().splitlines()
    assert sorted(json.loads(x)["id"] for x in lines) == sorted(by_id)


def test_run_resumes_where_it_stopped(
    files: tuple[Path, Path], eval_settings: Settings, model: ScriptedLiteLLM, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    first = _run(files, eval_settings, model, out, limit=1)
    assert first.resumed == 0 and [r.id for r in first.records] == ["q-chief"]
    calls = model.calls
    # A run stopped mid-write leaves half a line; a failed question is kept with its error.
    failed = first.records[0].model_copy(update={"id": "q-council", "error": "LLMError: down"})
    with (out / RESULTS).open("a") as fh:
        fh.write(failed.model_dump_json() + "\n" + '{"id": "q-no')
    second = _run(files, eval_settings, model, out)
    assert second.resumed == 1  # q-chief kept; q-council (failed) and q-none run now
    assert [r.id for r in second.records] == ["q-chief", "q-council", "q-none"]
    assert all(not r.error for r in second.records)
    assert model.calls > calls and model.calls - calls <= 4  # two questions, a repair each
    assert len((out / RESULTS).read_text().splitlines()) == 3
    third = _run(files, eval_settings, model, out)
    assert third.resumed == 3 and third.metrics == {**second.metrics, "run": third.metrics["run"]}
    # A smaller --limit scores fewer questions but keeps the others' records on disk.
    fourth = _run(files, eval_settings, model, out, limit=1)
    assert [r.id for r in fourth.records] == ["q-chief"] and fourth.metrics["questions"] == 1
    assert len((out / RESULTS).read_text().splitlines()) == 3


def test_a_question_that_fails_is_recorded_and_the_run_goes_on(
    files: tuple[Path, Path], eval_settings: Settings, model: ScriptedLiteLLM, tmp_path: Path
) -> None:
    model.failures = [model.exceptions.BadRequestError("bad", "openai/gpt-4o-mini", "openai")]
    run = _run(files, eval_settings, model, tmp_path / "run")
    assert [bool(r.error) for r in run.records] == [True, False, False]
    assert "rejected the request" in run.records[0].error
    assert run.metrics["failed"] == 1 and correct(run.records[0]) is None


def test_a_run_made_differently_is_not_resumed(
    files: tuple[Path, Path], eval_settings: Settings, model: ScriptedLiteLLM, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    _run(files, eval_settings, model, out, limit=1)
    with pytest.raises(ConfigError, match=r"retrieval_only: False -> True.*another --out"):
        _run(files, eval_settings, model, out, retrieval_only=True)


def test_report_is_self_contained(
    files: tuple[Path, Path], eval_settings: Settings, model: ScriptedLiteLLM, tmp_path: Path
) -> None:
    run = _run(files, eval_settings, model, tmp_path / "run")
    page = (run.out / "report.html").read_text()
    for part in ("Metrics", "Distributions", "Worst questions", "Every question", "<svg"):
        assert part in page
    assert "<script" not in page and "src=" not in page and "<link" not in page
    # The worst question is shown with its answer and the passage it cited.
    worst = page.index("Worst questions")
    assert page.index("How did the city council vote", worst) < page.index("Every question")
    assert "The city council voted unanimously" in page[worst:]


def test_compare_shows_deltas_and_flips(
    files: tuple[Path, Path], eval_settings: Settings, model: ScriptedLiteLLM, tmp_path: Path
) -> None:
    a = _run(files, eval_settings, model, tmp_path / "a").out
    model.replies = [OFF]
    b = _run(files, eval_settings, model, tmp_path / "b").out
    found = compare_runs(a, b)
    rows = {r["metric"]: r for r in found["metrics"]}
    assert rows["answers.contained"] == {
        "metric": "answers.contained",
        "a": 0.5,
        "b": 0.0,
        "delta": -0.5,
    }
    assert rows["retrieval.recall@1"]["delta"] == 0.0
    assert [q["id"] for q in found["now_wrong"]] == ["q-chief"]
    assert found["now_wrong"][0]["a_status"] == "accepted"
    assert found["now_right"] == [] and found["common_questions"] == 3
    with pytest.raises(ConfigError, match="not a finished run"):
        compare_runs(a, tmp_path)


@pytest.fixture
def given(model: ScriptedLiteLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """What `rag eval` runs with here: the eval settings in the environment, fakes given."""
    monkeypatch.setenv("RAG_LOCAL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("RAG_VALIDATE_MODE", "fast")
    monkeypatch.setenv("RAG_ANSWER_K", "1")
    return Runtime(
        embedder=HashEmbedder(model_id=DEFAULT_EMBED_MODEL), models=scripted_models(model)
    )


def test_cli_eval_and_compare(
    files: tuple[Path, Path], eval_settings: Settings, given: Runtime, tmp_path: Path
) -> None:
    gold, corpus = files
    base = ["eval", str(gold), "--corpus", str(corpus), "--model", "openai/gpt-4o-mini"]
    done = CliRunner().invoke(cli, [*base, "--out", str(tmp_path / "a"), "--json"], obj=given)
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["metrics"]["answers"]["contained"] == 0.5 and report["resumed"] == 0
    table = CliRunner().invoke(cli, [*base, "--out", str(tmp_path / "a")], obj=given)
    assert table.exit_code == 0 and "(3 from an earlier run)" in table.stdout
    assert "recall@10" in table.stdout and "report.html" in table.stdout
    only = CliRunner().invoke(
        cli, [*base, "--retrieval-only", "--out", str(tmp_path / "r")], obj=given
    )
    assert only.exit_code == 0 and "answers" not in only.stdout
    compared = CliRunner().invoke(
        cli, ["eval", "compare", str(tmp_path / "a"), str(tmp_path / "a"), "--json"]
    )
    assert compared.exit_code == 0 and json.loads(compared.stdout)["now_wrong"] == []
    both = CliRunner().invoke(cli, [*base, "--index", str(tmp_path / "i")], obj=given)
    assert both.exit_code == 2 and "--corpus or --index" in both.output


def test_questions_run_concurrently_give_the_same_scores(
    files: tuple[Path, Path], eval_settings: Settings, model: ScriptedLiteLLM, tmp_path: Path
) -> None:
    alone = _run(files, eval_settings, model, tmp_path / "one")
    together = _run(files, eval_settings.updated(eval_workers=3), model, tmp_path / "three")
    assert [r.id for r in together.records] == [r.id for r in alone.records]
    assert [r.scores for r in together.records] == [r.scores for r in alone.records]
    assert together.metrics["answers"] == alone.metrics["answers"]


def test_long_gold_answers_are_scored_by_claim_recall(
    eval_settings: Settings, model: ScriptedLiteLLM, tmp_path: Path
) -> None:
    long = (
        "The police chief said officers do not cooperate with ICE agents. "
        "The council approved a budget of nine billion dollars for the river."
    )
    gold = tmp_path / "long.jsonl"
    gold.write_text(json.dumps({**GOLD[0], "answers": [long]}) + "\n", encoding="utf-8")
    model.replies = [REPLY.replace("No. ", "")]
    corpus = write_corpus(tmp_path / "corpus.jsonl", CORPUS)
    run = _run((gold, corpus), eval_settings, model, tmp_path / "run")
    # The answer backs the first gold sentence, not the second (its number is not there).
    assert run.records[0].scores["claim_recall"] == 0.5
    assert run.metrics["answers"]["claim_recall"] == 0.5


class Notes:
    """A reporter that keeps what it is told."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    @contextlib.contextmanager
    def task(self, description: str, total: int) -> Iterator[Callable[..., None]]:
        def tick(n: int = 1) -> None:
            return None

        yield tick

    def note(self, text: str) -> None:
        self.notes.append(text)


def test_a_run_says_what_the_question_under_way_is_doing(
    files: tuple[Path, Path], eval_settings: Settings, model: ScriptedLiteLLM, tmp_path: Path
) -> None:
    notes = Notes()
    _run(files, eval_settings, model, tmp_path / "run", reporter=notes)
    assert any(n.startswith("loading the answering model") for n in notes.notes)
    assert "q-chief: writing a draft from 1 passages with openai/gpt-4o-mini" in notes.notes
    assert "q-council: checking every sentence of the draft against its passages" in notes.notes


def test_the_report_and_the_table_write_metrics_as_measured(
    files: tuple[Path, Path],
    eval_settings: Settings,
    model: ScriptedLiteLLM,
    given: Runtime,
    tmp_path: Path,
) -> None:
    run = _run(files, eval_settings, model, tmp_path / "run")
    page = (run.out / "report.html").read_text(encoding="utf-8")
    assert f"index version {run.info.index_version} at " in page and "index index" not in page
    assert metric_text(run.metrics["cost"]["judge_calls_mean"]) == "0"
    # The terminal's table, too: 0.5 is 0.5, not 0.500.
    gold, corpus = files
    given = Runtime(
        embedder=HashEmbedder(model_id=DEFAULT_EMBED_MODEL), models=scripted_models(model)
    )
    args = ["eval", str(gold), "--corpus", str(corpus), "--model", "openai/gpt-4o-mini"]
    table = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "table")], obj=given)
    assert table.exit_code == 0 and "0.5" in table.stdout
    assert not re.search(r"\b\d+\.\d*0\b", table.stdout), table.stdout
