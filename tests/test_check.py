"""`rag check`: a text split into claims, each found supported, contradicted or not found in
the index, through the library, the CLI and `POST /check`. Fake encoder; a scripted judge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from helpers.fakes import HashEmbedder, ScriptedLiteLLM, scripted_models

from rag.check.checker import TextChecker, bottom_line, claims_of
from rag.cli.app import cli
from rag.cli.common import Runtime
from rag.config import DEFAULT_EMBED_MODEL, Settings, load_settings
from rag.errors import ConfigError
from rag.retrieve.search import Searcher
from rag.serve.app import create_app
from rag.serve.service import Service
from rag.store import IndexReader
from rag.types import TextCheck
from rag.validate.validator import Validator

HELD = "The police chief said officers do not cooperate with ICE."
CHANGED = "The council voted unanimously on December 14 to strengthen the ordinance."
ABSENT = "Penguins elected a new mayor of the harbor town last spring."


def _embedder() -> HashEmbedder:
    return HashEmbedder(model_id=DEFAULT_EMBED_MODEL)


@pytest.fixture
def index(index: Settings) -> Settings:
    return load_settings(index_dir=index.index.dir, validate_mode="fast")


def _checker(index: Settings, contradiction: float | None = None) -> TextChecker:
    """A checker; with `contradiction`, a judge that reads every passage as contradicting
    with that probability (and never as supporting an unsure claim)."""
    settings = index
    if contradiction is None:
        validator = Validator(settings.validator, _embedder())
    else:
        settings = index.updated(validate_mode="judge")
        validator = Validator(
            settings.validator,
            _embedder(),
            judge=lambda claim, passage: 0.0,
            contradiction=lambda claim, passage: contradiction,
        )
    searcher = Searcher(IndexReader.open(settings.index.dir), settings.search, _embedder())
    return TextChecker(settings.check, searcher, validator)


@pytest.mark.parametrize(
    ("text", "claims", "skipped"),
    [
        (HELD, [HELD], []),
        (f"# Police\n{HELD} Is it so? Yes.", [HELD], ["Police", "Is it so?", "Yes."]),
        (f"{HELD[:-1]} [1][2].", [HELD], []),  # an answer's markers are not part of the claim
        (f"{HELD}\n\n{ABSENT}", [HELD, ABSENT], []),
    ],
)
def test_a_text_is_split_into_the_claims_it_makes(
    text: str, claims: list[str], skipped: list[str]
) -> None:
    assert claims_of(text) == (claims, skipped)


def test_each_claim_is_supported_or_not_found_with_the_passages_behind_it(
    index: Settings,
) -> None:
    seen: list[int] = []
    report = _checker(index).check(f"{HELD} {ABSENT}", on_claim=lambda c: seen.append(c.n))
    held, absent = report.claims
    assert seen == [1, 2]
    assert (held.verdict, absent.verdict) == ("supported", "not_found")
    assert [c.source_id for c in held.citations] == ["chief"]
    assert held.citations[0].quote == HELD and held.citations[0].n == 1
    assert not absent.citations and absent.closest is not None
    assert "fast mode" in absent.reason  # no judge: contradiction cannot be read
    assert report.counts == {"supported": 1, "contradicted": 0, "not_found": 1}
    assert f"1. {HELD} **Supported** [1]." in report.summary
    assert "## What the sources cannot settle\n- " + ABSENT in report.summary
    assert report.index_version == 1 and report.validate_mode == "fast"


def test_a_changed_date_is_contradicted_when_the_judge_reads_it_so(index: Settings) -> None:
    report = _checker(index, contradiction=0.9).check(CHANGED)
    [claim] = report.claims
    assert claim.verdict == "contradicted" and claim.score == 0.9
    assert [c.source_id for c in claim.citations] == ["council"]
    assert report.counts["contradicted"] == 1 and "Contradicted in part" in report.summary
    assert report.usage["judge_calls"] >= 1
    # Under the threshold, the passage does not settle it.
    [unsettled] = _checker(index, contradiction=0.2).check(CHANGED).claims
    assert unsettled.verdict == "not_found" and "best P = 0.20" in unsettled.reason


@pytest.mark.parametrize(
    ("claim", "fast_score"),
    [
        ("The chief of police said city officers refuse to work with ICE [1].", 0.66),
        ("The police chief stated that city officers decline to help ICE [1].", 0.58),
    ],
)
def test_a_checked_claim_in_other_words_goes_to_the_judge(claim: str, fast_score: float) -> None:
    """Under RAG_SUPPORT_REJECT (0.7) an answer's sentence is cut without the judge; a checked
    claim is read by the judge from RAG_CHECK_SUPPORT_REJECT (0.5) up."""
    settings = load_settings(validate_mode="judge")
    asked: list[str] = []

    def judge(claim: str, passage: str) -> float:
        asked.append(claim)
        return 0.9

    validator = Validator(settings.validator, _embedder(), judge=judge)
    passages = {1: "Chief statement\nThe police chief said officers do not cooperate with ICE."}
    [as_answer] = validator.check(claim, passages).sentences
    assert (as_answer.supported, as_answer.layer) == (False, "fast") and not asked
    assert as_answer.score == pytest.approx(fast_score, abs=0.01)
    reading = validator.reading(settings.check.support_reject)
    [as_checked] = reading.check(claim, passages).sentences
    assert (as_checked.supported, as_checked.layer) == (True, "judge") and len(asked) == 1
    assert validator.settings.support_reject == 0.7  # the answers' validator is unchanged


@pytest.mark.parametrize(
    ("counts", "opening"),
    [
        ({"supported": 2, "contradicted": 0, "not_found": 0}, "Supported"),
        ({"supported": 1, "contradicted": 0, "not_found": 1}, "Partly supported"),
        ({"supported": 1, "contradicted": 1, "not_found": 0}, "Contradicted in part"),
        ({"supported": 0, "contradicted": 0, "not_found": 2}, "The sources neither"),
    ],
)
def test_the_bottom_line_follows_the_claims(counts: Any, opening: str) -> None:
    assert bottom_line(counts, sum(counts.values())).startswith(opening)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Why? Yes.", "states nothing to check"),
        (" ".join([HELD] * 61), "61 claims"),
    ],
)
def test_a_text_with_nothing_or_too_much_to_check_is_refused(
    index: Settings, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        _checker(index).check(text)


# -- the CLI and the server -------------------------------------------------------------------
def _rag(index: Settings, *args: str, stdin: str | None = None) -> Any:
    runtime = Runtime(embedder=_embedder())
    return CliRunner().invoke(
        cli,
        ["check", *args, "--index", str(index.index.dir), "--mode", "fast"],
        obj=runtime,
        input=stdin,
    )


def test_cli_check_prints_the_verdicts_and_exits_by_them(index: Settings, tmp_path: Path) -> None:
    held = _rag(index, HELD)
    assert held.exit_code == 0, held.stderr
    assert "Supported: the sources hold every claim" in held.stdout and "[1] Chief" in held.stdout
    assert "1. supported" in held.stderr
    article = tmp_path / "article.txt"
    article.write_text(f"{HELD}\n{ABSENT}\n", encoding="utf-8")
    mixed = _rag(index, "--file", str(article), "--json")
    assert mixed.exit_code == 5  # a claim not found: the text is not fully supported
    report = TextCheck.model_validate(json.loads(mixed.stdout))
    assert [c.verdict for c in report.claims] == ["supported", "not_found"]
    piped = _rag(index, "-", "--json", stdin=HELD)
    assert piped.exit_code == 0 and json.loads(piped.stdout)["counts"]["supported"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Why?"], "states nothing to check"),
        ([HELD, "--file", "pyproject.toml"], "not both"),
    ],
)
def test_cli_check_refuses_what_it_cannot_check(
    index: Settings, args: list[str], message: str
) -> None:
    result = _rag(index, *args, "--json")
    assert result.exit_code == 1
    assert message in json.loads(result.stdout)["error"]["message"]


def test_post_check_returns_the_report_or_streams_each_claim(
    index: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    settings = index.updated(llm_model="openai/gpt-4o-mini", rate_limit_per_minute=0)
    service = Service(
        settings, embedder=_embedder(), models=scripted_models(ScriptedLiteLLM([], reply="x"))
    )
    with TestClient(create_app(service=service)) as client:
        report = client.post("/check", json={"text": f"{HELD} {ABSENT}"})
        assert report.status_code == 200, report.text
        assert report.json()["counts"] == {"supported": 1, "contradicted": 0, "not_found": 1}
        with client.stream(
            "POST", "/check", json={"text": HELD}, headers={"Accept": "text/event-stream"}
        ) as response:
            raw = "".join(response.iter_text())
        names = [b.split("\n")[0] for b in raw.strip().split("\n\n")]
        assert names == ["event: claim", "event: check"]
        empty = client.post("/check", json={"text": "  "})
        assert empty.status_code == 400 and empty.json()["code"] == "empty_text"
        nothing = client.post("/check", json={"text": "Why?"})
        assert nothing.status_code == 400 and "states nothing" in nothing.json()["message"]
        metrics = client.get("/metrics").text
        assert "rag_text_checks_total 2.0" in metrics  # the two that were checked
