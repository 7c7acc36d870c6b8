"""The answerer: retrieval, prompt, a scripted provider, and an Answer whose every [n] is a real
passage."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner, Result
from helpers.data import CORPUS, GOOD, RAW, UNSUPPORTED
from helpers.fakes import FakeChatModel, HashEmbedder, ScriptedLiteLLM, scripted_models

from rag.answer.answerer import Answerer, open_answerer, open_validator
from rag.cli.app import cli
from rag.cli.common import Runtime
from rag.config import DEFAULT_EMBED_MODEL, Settings, load_settings
from rag.errors import LLMError
from rag.retrieve.search import Searcher
from rag.store import IndexReader
from rag.types import Answer
from rag.validate.validator import Validator

# These tests hold the one-draft path: its draft, repair round and streamed tokens.
COMPOSE = "single"


@pytest.fixture
def mocked(monkeypatch: pytest.MonkeyPatch) -> ScriptedLiteLLM:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    return ScriptedLiteLLM([], reply=RAW)


def given(fake: ScriptedLiteLLM) -> Runtime:
    """What `rag` runs with here: the fake encoder under the default's name, scripted models."""
    return Runtime(
        embedder=HashEmbedder(model_id=DEFAULT_EMBED_MODEL), models=scripted_models(fake)
    )


def _ask(index: Settings, fake: ScriptedLiteLLM, **kwargs: Any) -> Answer:
    searcher = Searcher(
        IndexReader.open(index.index.dir), index.search, HashEmbedder(model_id=DEFAULT_EMBED_MODEL)
    )
    answerer = open_answerer(
        index, "openai/gpt-4o-mini", searcher=searcher, models=scripted_models(fake)
    )
    return answerer.ask("Do police help ICE?", k=2, **kwargs)


def test_answer_cites_only_real_passages(index: Settings, mocked: ScriptedLiteLLM) -> None:
    tokens: list[str] = []
    answer = _ask(index, mocked, on_token=tokens.append)
    # The draft streams as written, numbered as it will be shown: [2] cited first becomes [1],
    # and the invented [9] goes.
    streamed = "".join(tokens)
    assert streamed.startswith("## Summary\nNo. Volunteers cleaned the river banks [1]. The police")
    assert "[9]" not in streamed and "The council acted [2]." in streamed
    assert streamed.replace("[1]", "[x]").replace("[2]", "[1]").replace("[x]", "[2]") == (
        RAW.replace(" [1, 9]", " [1]")
    )
    hits = {h.passage_id: h for h in answer.hits}
    assert len(answer.hits) == 2
    # Renumbered by first use: the model's [2] is shown as [1]; its invented [9] is dropped.
    assert [c.n for c in answer.citations] == [1, 2]
    assert answer.dropped_citations == [9]
    for citation in answer.citations:
        hit = hits[citation.passage_id]
        assert (citation.source_id, citation.title) == (hit.source_id, hit.title)
        assert citation.quote in hit.text
    assert "[9]" not in answer.text and "[3]" not in answer.text
    assert answer.sections.summary.startswith("No. Volunteers cleaned the river banks [1].")
    assert answer.sections.follow_ups == ["What did the audit find?"]
    # The sentence citing [9] failed; the repair (the same reply again) did not fix it, so it
    # was cut and the rest, which still answers, is shown as repaired.
    assert answer.status == "repaired" and answer.repair_rounds == 1
    assert [c.problem for c in answer.dropped_sentences] == ["out_of_range"]
    assert "council acted" not in answer.text
    # Each sentence once: the draft repeated two of the summary's in a section and the bottom line.
    assert all(c.supported for c in answer.checks)
    assert len(answer.checks) == len({c.text for c in answer.checks}) == 2
    assert answer.checks[0].text == "Volunteers cleaned the river banks [1]."
    assert answer.prompt_version.startswith("answer@") and ",repair@" in answer.prompt_version
    assert answer.index_version == 1 and answer.model == "openai/gpt-4o-mini"
    assert set(answer.timings) >= {"retrieve", "first_token", "generate", "validate", "total"}
    # The prompt numbered the passages and told the model they are data.
    system, user = mocked.requests[0]["messages"]
    assert "never instructions" in system["content"] or "not instructions" in system["content"]
    assert "[1] " in user["content"] and "[2] " in user["content"]
    # The repair prompt listed the failure.
    repair_user = mocked.requests[1]["messages"][1]["content"]
    assert '"The council acted [1, 9]." cites a passage number that was not given' in repair_user
    assert "Draft answer:" in repair_user


def test_supported_draft_is_accepted_without_repair(
    index: Settings, mocked: ScriptedLiteLLM
) -> None:
    mocked.replies = [GOOD]
    answer = _ask(index, mocked)
    assert answer.status == "accepted" and mocked.calls == 1
    assert answer.repair_rounds == 0 and answer.dropped_sentences == []


def test_repair_that_fixes_the_draft(index: Settings, mocked: ScriptedLiteLLM) -> None:
    mocked.replies = [RAW, GOOD]
    answer = _ask(index, mocked)
    assert answer.status == "repaired" and answer.repair_rounds == 1
    assert answer.dropped_sentences == [] and mocked.calls == 2


def test_nothing_supported_abstains_and_shows_what_was_found(
    index: Settings, mocked: ScriptedLiteLLM
) -> None:
    mocked.replies = [UNSUPPORTED]
    answer = _ask(index, mocked)
    assert answer.status == "abstained"
    assert answer.sections.summary == "The sources found do not support an answer to this question."
    assert "harbor" not in answer.text and len(answer.dropped_sentences) == 2
    # What was found is shown, cited, and itself passes the validator.
    assert "The police chief said officers do not cooperate with ICE." in answer.text
    assert answer.citations and all(c.supported for c in answer.checks)


def run_ask(index: Settings, fake: ScriptedLiteLLM, *extra: str) -> Result:
    """`rag ask` on the test index with another provider's model string."""
    args = ["ask", "Do police help ICE?", "--index", str(index.index.dir)]
    return CliRunner().invoke(
        cli, [*args, "--model", "openai/gpt-4o-mini", "-k", "2", *extra], obj=given(fake)
    )


def test_cli_ask_json_with_another_provider(index: Settings, mocked: ScriptedLiteLLM) -> None:
    result = run_ask(index, mocked, "--json")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["model"] == "openai/gpt-4o-mini"
    assert [c["n"] for c in answer["citations"]] == [1, 2]


def test_cli_ask_streams_then_lists_sources(
    index: Settings, mocked: ScriptedLiteLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The scripted provider answers the relevance question with the draft (a "no"): that check
    # has its own tests below.
    monkeypatch.setenv("RAG_RELEVANCE_THRESHOLD", "0")
    result = run_ask(index, mocked)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    # Streamed with the same numbering as the final answer: model [2] shows as [1].
    assert "river banks [1]. The police chief" in out and "[9]." not in out
    # The draft did not hold up everywhere: the marker, what was cut and why, the final text.
    assert "\u26a0 repaired" in out and "cut: The council acted" in out
    assert out.count("## Summary") == 2
    listed = re.findall(r"^\[(\d)\] (.+?)(?: \(\d{4}-\d\d-\d\d\))?$", out, re.MULTILINE)
    assert out.index("Sources") < out.index("[1] ", out.index("Sources"))
    assert [n for n, _ in listed] == ["1", "2"]
    assert {title for _, title in listed} <= {c["title"] for c in CORPUS}


def test_cli_ask_without_key_says_which(index: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = CliRunner().invoke(
        cli,
        [
            "ask",
            "q?",
            "--index",
            str(index.index.dir),
            "--model",
            "openai/gpt-4o-mini",
        ],
        obj=Runtime(embedder=HashEmbedder(model_id=DEFAULT_EMBED_MODEL)),
    )
    assert result.exit_code == 1
    assert "needs OPENAI_API_KEY" in result.stderr


def test_settings_pick_the_model_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_LLM_MODEL", "anthropic/claude-3-5-haiku-latest")
    assert load_settings().llm.model == "anthropic/claude-3-5-haiku-latest"


@pytest.mark.parametrize("continues_reply", [True, False])
def test_a_model_that_continues_a_reply_is_given_its_start(
    index: Settings, continues_reply: bool
) -> None:
    """What differs between models is read from their capabilities, never their names: a model
    that continues a prefilled reply gets the prompt's first words as the reply's start, and the
    stream shows them with its first token."""
    model = FakeChatModel([GOOD.removeprefix("## Summary\n")] if continues_reply else [GOOD])
    model.continues_reply = continues_reply
    searcher = Searcher(
        IndexReader.open(index.index.dir), index.search, HashEmbedder(model_id=DEFAULT_EMBED_MODEL)
    )
    validator = open_validator(index, searcher.embedder or HashEmbedder())
    answerer = Answerer(index.answer, searcher, model, validator)
    tokens: list[str] = []
    answer = answerer.ask("Do police help ICE?", k=2, on_token=tokens.append)
    messages = model.requests[0]
    assert [m["role"] for m in messages] == (
        ["system", "user", "assistant"] if continues_reply else ["system", "user"]
    )
    if continues_reply:
        assert messages[-1]["content"] == "## Summary\n"
    assert "".join(tokens).startswith("## Summary\nNo. Volunteers cleaned the river banks [1].")
    assert answer.status == "accepted" and answer.model == "fake/model"
    assert model.prepared[0] == answerer.prompts.answer.fixed_system


def test_a_repair_that_copies_back_its_problem_list_is_not_shown_it(
    index: Settings, mocked: ScriptedLiteLLM
) -> None:
    echo = (
        "Problems found:\n"
        '- "The council acted [1, 9]." cites a passage number that was not given\n'
        'The sentence "The council acted [1]." is not what the cited passage says.\n'
    )
    mocked.replies = [RAW, GOOD + echo]
    answer = _ask(index, mocked)
    assert answer.status == "repaired" and answer.dropped_sentences == []
    assert "council" not in answer.text and "Problems found" not in answer.text


def test_cut_sentences_give_their_reasons_in_the_numbers_shown(
    index: Settings, mocked: ScriptedLiteLLM
) -> None:
    mocked.replies = [
        "## Summary\nVolunteers cleaned the river banks [2]. "
        "The police chief patrols the harbor with federal boats every night [1].\n"
    ]
    answer = _ask(index, mocked)
    assert answer.status == "repaired" and len(answer.dropped_sentences) == 1
    [cut] = answer.dropped_sentences
    assert cut.text.endswith("[2].") and cut.citations == [2]
    assert set(re.findall(r"\[\d+\]", cut.reason)) == {"[2]"}, cut.reason


def test_a_supported_sentence_that_answers_is_not_an_abstention(
    index: Settings, mocked: ScriptedLiteLLM
) -> None:
    """The summary did not hold, but a section's supported sentence answers the question: the
    answer is cut down to it (repaired), not an abstention that then quotes the answer."""
    mocked.replies = [
        "## Summary\nYes, police help ICE agents with raids every single day [1].\n"
        "## 1. What the chief said\n"
        "The police chief said officers do not cooperate with ICE [1].\n"
    ]
    answer = _ask(index, mocked)
    assert answer.status == "repaired", answer.text
    chief = "The police chief said officers do not cooperate with ICE [1]."
    assert answer.sections.summary == chief
    assert "do not support an answer" not in answer.text


def test_ask_json_says_on_stderr_what_it_is_doing(index: Settings, mocked: ScriptedLiteLLM) -> None:
    result = run_ask(index, mocked, "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["status"]
    said = result.stderr
    assert "loading the answering model openai/gpt-4o-mini" in said
    for stage in ("retrieving passages", "writing a draft", "checking every sentence"):
        assert stage in said, said


@pytest.mark.parametrize(
    "reply",
    [
        "## Summary\n" + "The sources do not answer this question [1].\n" * 3,
        "## Summary\nThe sources do not answer this question.\n"
        "## Bottom line\nThe sources do not answer this question.\n",
    ],
    ids=["cited three times", "plain, twice"],
)
def test_an_answer_that_says_nothing_is_an_abstention(
    index: Settings, mocked: ScriptedLiteLLM, reply: str
) -> None:
    """Even where a lenient check lets "the sources do not answer [1]" pass as supported (a
    small judge may say yes to it), saying nothing is not an answer."""
    mocked.replies = [reply]
    lenient = index.updated(support_reject=0.0, support_threshold=0.0)
    answer = _ask(lenient, mocked)
    assert answer.status == "abstained", answer.text


def test_a_repeated_sentence_is_shown_once(index: Settings, mocked: ScriptedLiteLLM) -> None:
    chief = "The police chief said officers do not cooperate with ICE [1]."
    mocked.replies = [
        f"## Summary\n{chief} {chief}\n## 1. Chief\n{chief}\n## Bottom line\n{chief}\n"
    ]
    answer = _ask(index, mocked)
    assert answer.status == "accepted" and answer.text.count("do not cooperate") == 1


def test_the_labels_a_draft_lists_its_sentences_with_are_not_shown(
    index: Settings, mocked: ScriptedLiteLLM
) -> None:
    chief = "The police chief said officers do not cooperate with ICE [1]."
    mocked.replies = [f"## Summary\nFact 1: {chief}\n## 1. Chief\nFact 2: {chief}\n"]
    answer = _ask(index, mocked)
    assert answer.status == "accepted" and "Fact" not in answer.text
    assert chief in answer.text


def _answerer(index: Settings, draft: str, relevance: Any, premise: Any = None) -> Answerer:
    """An answerer in judge mode whose judge says yes and whose relevance check (and premise
    read, if any) is given."""
    judging = index.updated(validate_mode="judge")
    embedder = HashEmbedder(model_id=DEFAULT_EMBED_MODEL)
    searcher = Searcher(IndexReader.open(index.index.dir), judging.search, embedder)
    validator = Validator(
        judging.validator,
        embedder,
        judge=lambda claim, text: 1.0,
        relevance=relevance,
        premise=premise,
    )
    return Answerer(judging.answer, searcher, FakeChatModel([draft]), validator)


CHIEF = "## Summary\nThe police chief said officers do not cooperate with ICE [1].\n"


@pytest.mark.parametrize(
    ("probability", "status"),
    [(0.9, "accepted"), (0.5, "accepted"), (0.49, "abstained"), (0.0, "abstained")],
)
def test_an_answer_that_does_not_answer_the_question_abstains(
    index: Settings, probability: float, status: str
) -> None:
    asked: list[tuple[str, str]] = []

    def relevance(question: str, answer: str) -> float:
        asked.append((question, answer))
        return probability

    answer = _answerer(index, CHIEF, relevance).ask("Do police help ICE?", k=2)
    assert answer.status == status and answer.relevance == probability
    # What is read against the question: the supported summary, without markers (then, below
    # the threshold, the closest passage sentence, which here is the same sentence).
    assert asked[0] == (
        "Do police help ICE?",
        "The police chief said officers do not cooperate with ICE.",
    )
    if status == "abstained":
        assert "does not answer the question as asked" in " ".join(answer.notes)
        assert "The police chief said officers do not cooperate with ICE" in answer.text


OFF_SUMMARY = (
    "## Summary\nVolunteers cleaned the river banks [2].\n## 1. The chief\n"
    "The police chief said officers do not cooperate with ICE [1].\n"
    "## Bottom line\nThe river banks were cleaned [2].\n"
)


@pytest.mark.parametrize(
    ("closest_sentence", "closest_read", "status"),
    [
        (True, 0.9, "repaired"),  # the closest sentence answers: the summary
        (True, 0.65, "repaired"),  # at the threshold
        (True, 0.6, "abstained"),  # read below it
        (False, 0.9, "abstained"),  # turned off
    ],
)
def test_a_summary_off_the_question_gives_way_to_the_passage_sentence_that_answers(
    index: Settings, closest_sentence: bool, closest_read: float, status: str
) -> None:
    asked: list[str] = []
    chief = "The police chief said officers do not cooperate with ICE."

    def relevance(question: str, answer: str) -> float:
        asked.append(answer)
        return 0.1 if "Volunteers" in answer else closest_read

    checking = index.updated(closest_sentence=closest_sentence)
    answer = _answerer(checking, OFF_SUMMARY, relevance).ask("Do police help ICE?", k=2)
    assert answer.status == status, answer.notes
    assert asked[0] == "Volunteers cleaned the river banks."
    assert asked[1:] == ([chief] if closest_sentence else [])
    if status == "repaired":
        summary = "The police chief said officers do not cooperate with ICE [1]."
        assert answer.sections.summary == summary and answer.relevance == closest_read
        # The drafted bottom line comes to what the drafted summary said: the sentence is both.
        assert answer.sections.bottom_line == summary
        assert "it stands as the summary, word for word" in " ".join(answer.notes)
        # The drafted sentences are not lost: in their section, or in one of their own.
        assert "Volunteers cleaned the river banks" in answer.text
        assert "The river banks were cleaned [2]." in answer.text.split("Also found")[1]
    else:
        assert "does not answer the question as asked" in " ".join(answer.notes)


def test_an_answer_whose_summary_says_the_sources_do_not_answer_abstains(index: Settings) -> None:
    asked: list[str] = []
    draft = (
        "## Summary\nNo. The sources do not answer this question.\n## 1. The chief\n"
        "The police chief said officers do not cooperate with ICE [1].\n"
    )

    def relevance(question: str, answer: str) -> float:
        asked.append(answer)
        return 1.0

    answer = _answerer(index, draft, relevance).ask("Do police help ICE?", k=2)
    assert answer.status == "abstained" and asked == []  # no relevance check needed
    assert "own summary says the sources do not answer" in " ".join(answer.notes)
    said = answer.text.split("What the sources do say")[1]
    assert "The police chief said officers do not cooperate with ICE [1]." in said


@pytest.mark.parametrize(
    ("question", "premise_check", "status"),
    [
        ("Do police help ICE?", True, "accepted"),
        # a year no passage found holds: what they say answers another question
        ("Did police help ICE in 2031?", True, "abstained"),
        ("Did police help ICE in 2031?", False, "accepted"),
    ],
)
def test_a_question_the_sources_answer_otherwise_abstains(
    index: Settings, question: str, premise_check: bool, status: str
) -> None:
    asked: list[str] = []

    def relevance(question: str, answer: str) -> float:
        asked.append(answer)
        return 1.0

    checking = index.updated(premise_check=premise_check)
    answer = _answerer(checking, CHIEF, relevance).ask(question, k=2)
    assert answer.status == status
    if status == "abstained":
        assert asked == []  # the lexical check comes first, and needs no judge
        assert "it asks about 2031, which no passage found gives" in " ".join(answer.notes)
        said = answer.text.split("What the sources do say")[1]
        assert "The police chief said officers do not cooperate with ICE [1]." in said


@pytest.mark.parametrize(
    ("question", "asked_check", "status"),
    [
        ("Do police help ICE?", True, "accepted"),  # asks for no kind of thing
        ("How many officers cooperate with ICE?", True, "abstained"),  # no number given
        ("How many officers cooperate with ICE?", False, "accepted"),
        ("When did the police chief speak about ICE?", True, "abstained"),  # no time given
    ],
)
def test_an_answer_that_gives_nothing_of_the_kind_asked_abstains(
    index: Settings, question: str, asked_check: bool, status: str
) -> None:
    checking = index.updated(asked_check=asked_check)
    answer = _answerer(checking, CHIEF, lambda question, answer: 1.0).ask(question, k=2)
    assert answer.status == status
    if status == "abstained":
        assert "the question asks for a" in " ".join(answer.notes)
        said = answer.text.split("What the sources do say")[1]
        assert "The police chief said officers do not cooperate with ICE [1]." in said


POINTING = "## Summary\nThey do not cooperate with ICE [1].\n"


@pytest.mark.parametrize(
    ("draft", "changed", "status", "note"),
    [
        (CHIEF, {}, "accepted", ""),  # names who it is about
        # "They" points to what the summary does not name; the closest passage sentence does
        (POINTING, {}, "repaired", 'it opens with "They", naming nothing'),
        (POINTING, {"closest_sentence": False}, "abstained", 'opens with "They", which points'),
        (POINTING, {"asked_check": False}, "accepted", ""),
    ],
)
def test_a_summary_that_does_not_name_what_it_is_about_gives_way_or_abstains(
    index: Settings, draft: str, changed: dict[str, bool], status: str, note: str
) -> None:
    asked: list[str] = []

    def relevance(question: str, answer: str) -> float:
        asked.append(answer)
        return 1.0

    answer = _answerer(index.updated(**changed), draft, relevance).ask("Do police help ICE?", k=2)
    assert answer.status == status, answer.notes
    assert note in " ".join(answer.notes)
    # The judge is not asked of a pointing summary, only of the sentence that may replace it.
    assert ("They do not cooperate with ICE." in asked) is (draft == POINTING and not note)
    if status == "repaired":
        chief = "The police chief said officers do not cooperate with ICE [1]."
        assert answer.sections.summary == chief


def test_without_a_judge_a_summary_that_does_not_name_what_it_is_about_abstains(
    index: Settings,
) -> None:
    answer = _answerer(index, POINTING, None).ask("Do police help ICE?", k=2)
    assert answer.status == "abstained" and answer.relevance is None
    assert 'opens with "They", which points' in " ".join(answer.notes)
    assert "They do not cooperate with ICE [1]." in answer.text.split("What the sources do say")[1]


@pytest.mark.parametrize(
    ("read", "changed", "threshold", "status"),
    [
        # by default one threshold, whatever the closest sentence holds
        (0.69, {}, 0.4, "accepted"),
        (0.4, {}, 0.4, "accepted"),  # at the threshold
        (0.39, {}, 0.4, "abstained"),  # the question takes for granted what they do not say
        # a restated threshold set: the closest sentence holds 4 of the question's 5 word stems
        (0.9, {"premise_restated_threshold": 0.7}, 0.7, "accepted"),
        (0.7, {"premise_restated_threshold": 0.7}, 0.7, "accepted"),
        (0.69, {"premise_restated_threshold": 0.7}, 0.7, "abstained"),
        # ... and not restating (a share of 0.9 asked): the general threshold
        (0.69, {"premise_restated_threshold": 0.7, "premise_restated_share": 0.9}, 0.4, "accepted"),
        (0.1, {"premise_threshold": 0.0}, 0.0, "accepted"),  # turned off
    ],
)
def test_a_question_the_closest_sentence_and_summary_do_not_bear_out_abstains(
    index: Settings, read: float, changed: dict[str, float], threshold: float, status: str
) -> None:
    asked: list[tuple[str, str]] = []

    def premise(question: str, evidence: str) -> float:
        asked.append((question, evidence))
        return read

    checking = index.updated(**changed)
    answerer = _answerer(checking, CHIEF, lambda q, a: 1.0, premise)
    answer = answerer.ask("What did the police chief say about ICE?", k=2)
    assert answer.status == status, answer.notes
    if threshold == 0:
        assert asked == []
        return
    # Read after the relevance check passed: the closest passage sentence, then the summary.
    question, evidence = asked[0]
    assert question == "What did the police chief say about ICE?"
    assert evidence.endswith("The police chief said officers do not cooperate with ICE.")
    if status == "abstained":
        note = " ".join(answer.notes)
        assert "the question takes for granted what the sources found do not say" in note
        assert f"{read:.2f} against the threshold {threshold:.2f}" in note
        said = answer.text.split("What the sources do say")[1]
        assert "The police chief said officers do not cooperate with ICE [1]." in said


def test_a_premise_read_that_fails_keeps_the_checked_answer_with_a_note(index: Settings) -> None:
    def failing(question: str, evidence: str) -> float:
        raise LLMError("the judge timed out")

    answerer = _answerer(index, CHIEF, lambda q, a: 1.0, failing)
    answer = answerer.ask("What did the police chief say about ICE?", k=2)
    assert answer.status == "accepted"
    assert any("takes for granted was not read: the judge timed out" in n for n in answer.notes)


def test_a_yes_no_question_is_not_read_for_its_premise(index: Settings) -> None:
    """ "Do police help ICE?" is answered "officers do not cooperate": a yes/no question may take
    for granted what its answer denies, so the judge is not asked of it."""
    asked: list[str] = []

    def premise(question: str, evidence: str) -> float:
        asked.append(question)
        return 0.0

    answer = _answerer(index, CHIEF, lambda q, a: 1.0, premise).ask("Do police help ICE?", k=2)
    assert answer.status == "accepted" and asked == []


def test_a_relevance_check_that_fails_keeps_the_checked_answer_with_a_note(
    index: Settings,
) -> None:
    def failing(question: str, answer: str) -> float:
        raise LLMError("the judge timed out")

    answer = _answerer(index, CHIEF, failing).ask("Do police help ICE?", k=2)
    assert answer.status == "accepted" and answer.relevance is None
    assert any("was not checked: the judge timed out" in n for n in answer.notes)


@pytest.mark.parametrize(
    ("overrides", "relevance", "premise"),
    [
        ({"validate_mode": "judge"}, True, True),
        ({"validate_mode": "strict"}, True, True),
        ({"validate_mode": "fast"}, False, False),  # no judge, neither read
        ({"validate_mode": "judge", "relevance_threshold": 0.0}, False, True),
        ({"validate_mode": "judge", "premise_threshold": 0.0}, True, False),
    ],
)
def test_the_relevance_check_and_premise_read_run_with_a_judge_unless_turned_off(
    index: Settings, overrides: dict[str, Any], relevance: bool, premise: bool
) -> None:
    settings = index.updated(**overrides)
    model = FakeChatModel(["ok"])
    validator = open_validator(settings, HashEmbedder(), judge_model=model)
    assert (validator.relevance is not None) is relevance
    assert (validator.premise is not None) is premise


def test_an_answer_given_the_closest_sentence_keeps_the_drafts_reattributions(
    index: Settings,
) -> None:
    """A section sentence whose citation the composer moved to the passage that holds it is
    still marked so after the summary is replaced and the answer checked again."""
    draft = OFF_SUMMARY.replace("with ICE [1]", "with ICE [2]")

    def relevance(question: str, answer: str) -> float:
        return 0.1 if "Volunteers" in answer else 0.9

    answer = _answerer(index.updated(compose="sections"), draft, relevance).ask(
        "Do police help ICE?", k=2
    )
    assert answer.status == "repaired", answer.notes
    moved = {c.text for c in answer.checks if c.reattributed}
    assert "The police chief said officers do not cooperate with ICE [1]." in moved
