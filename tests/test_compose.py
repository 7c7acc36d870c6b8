"""The fact-check composer: the plan (kinds, evidence, aspects), the shapes' grammars, each section
written and checked (cut, re-attributed), the parts composed from what held (summary, verdict,
limits, disagreements, follow-ups), and the checked sections streamed to the CLI and over SSE.
A scripted chat model; the real one runs in tests/test_real.py."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from helpers.data import CORPUS
from helpers.fakes import FakeChatModel, HashEmbedder, ScriptedLiteLLM, scripted_models

from rag.answer.answerer import Answerer
from rag.answer.aspects import read_groups
from rag.answer.closest import nearest_first
from rag.answer.grammar import SectionShape, WrapupShape
from rag.answer.plan import choose_evidence, group_aspects, kind_of, plan_aspects
from rag.answer.reattribute import adds_a_fact, candidates, linked, reattribute
from rag.answer.wrapup import disagreements, verdict_of
from rag.cli.app import cli
from rag.cli.common import Runtime
from rag.config import DEFAULT_EMBED_MODEL, Settings, load_settings
from rag.retrieve.search import Searcher
from rag.serve.app import create_app
from rag.serve.service import Service
from rag.store import IndexReader
from rag.text import cited_numbers
from rag.types import Answer, CheckedSection, Hit, SentenceCheck
from rag.validate.validator import CheckRun, Validator

QUESTION = "Do police help ICE?"
# What each source's section says when it holds, and a sentence no passage holds.
HOLDS = {
    "chief": "### The chief's word\nThe police chief said officers do not cooperate with ICE [1].",
    "council": "### The vote\nThe council voted unanimously on December 11 [1].",
    "river": "### Cleanup\nVolunteers cleaned the river banks [1].",
}
INVENTED = "Officers patrol the harbor every night with ICE agents [1]."
WRAPUP = (
    "## What the sources cannot settle\nWhether officers ever meet agents on a call.\n"
    "## Follow-up questions\n- How is the rule enforced?\n"
)


def _embedder() -> HashEmbedder:
    return HashEmbedder(model_id=DEFAULT_EMBED_MODEL)


@pytest.fixture
def index(index: Settings) -> Settings:
    # One passage a section: the sections follow the hits' order, one source each.
    return load_settings(
        index_dir=index.index.dir, validate_mode="fast", compose="sections", section_passages=1
    )


def _searcher(index: Settings) -> Searcher:
    return Searcher(IndexReader.open(index.index.dir), index.search, _embedder())


def _order(index: Settings) -> list[str]:
    """The source ids in the order the fact-check's sections are written."""
    return [h.source_id for h in _searcher(index).search(QUESTION, k=24)]


def _answer(
    index: Settings,
    replies: list[str],
    shown: list[CheckedSection] | None = None,
    tokens: list[str] | None = None,
) -> tuple[Answer, FakeChatModel]:
    model = FakeChatModel(replies)
    validator = Validator(index.validator, _embedder())
    answerer = Answerer(index.answer, _searcher(index), model, validator)
    answer = answerer.ask(
        QUESTION,
        on_section=shown.append if shown is not None else None,
        on_token=tokens.append if tokens is not None else None,
    )
    return answer, model


# -- the plan --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Are Minneapolis police helping ICE?", "yes_no"),
        ("Did Minnesota police join ICE?", "yes_no"),
        ("Who wrote the ordinance?", "factoid"),
        ("Which magazine was started first, Arthur's or First for Women?", "factoid"),
        ("When did the council vote?", "factoid"),
        ("How many arrests has the operation made?", "factoid"),
        ("What is a 287(g) agreement?", "factoid"),
        ("How did the city respond to the federal operation in the Twin Cities?", "open"),
        ("Why did the state investigators step back from the inquiry?", "open"),
    ],
)
def test_kind_of_question(question: str, kind: str) -> None:
    assert kind_of(question) == kind


def _hit(rank: int, source: str) -> Hit:
    return Hit(
        rank=rank,
        score=1.0 / rank,
        retriever="fused",
        source_id=source,
        passage_id=f"{source}-{rank}",
        title=source.title(),
        text=f"Text of {source} {rank}.",
        start=0,
        end=10,
    )


def test_evidence_comes_from_distinct_sources_first() -> None:
    hits = [_hit(1, "a"), _hit(2, "a"), _hit(3, "a"), _hit(4, "b"), _hit(5, "c"), _hit(6, "b")]
    chosen = choose_evidence(hits, limit=5, per_source=2)
    # a, b, c once each before any second passage; never a third from one source.
    assert [hits[i].source_id for i in chosen] == ["a", "b", "c", "a", "b"]


def test_aspects_group_like_passages_and_respect_the_size() -> None:
    v = np.array(
        [[1, 0, 0], [0, 1, 0], [0.95, 0.05, 0], [0, 0.9, 0.1], [0, 0, 1]], dtype=np.float32
    )
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    groups = group_aspects(v, size=2, most=3)
    assert groups == [[0, 2], [1, 3], [4]]
    assert group_aspects(v, size=2, most=1) == [[0, 2]]  # one aspect: no room for the rest


def test_a_factoid_question_gets_one_aspect_of_the_best_passages() -> None:
    hits = [_hit(i, s) for i, s in enumerate("abcdef", start=1)]
    vectors = np.eye(6, dtype=np.float32)
    factoid = plan_aspects(hits, vectors, "factoid", 12, 2, 2, 6, factoid_passages=3)
    assert len(factoid) == 1 and [h.source_id for h in factoid[0].hits] == ["a", "b", "c"]
    broad = plan_aspects(hits, vectors, "yes_no", 12, 2, 2, 6, factoid_passages=3)
    assert len(broad) == 3 and sum(len(a.hits) for a in broad) == 6


@pytest.mark.parametrize(
    ("reply", "groups"),
    [
        ("Police policy: 1, 3\nThe vote: 2", [("Police policy", [0, 2]), ("The vote", [1])]),
        ("1. Policy: [1], [2]", [("Policy", [0, 1])]),  # a numbered line, bracketed numbers
        ("Policy: 1, 1, 2\nVote: 2, 3", [("Policy", [0, 1]), ("Vote", [2])]),  # each used once
        ("Policy: 1, 2, 3", [("Policy", [0, 1])]),  # no more than the size
        ("Policy: 7", []),  # not a given passage
        ("The passages are about the police.", []),  # no usable line
    ],
)
def test_the_models_grouping_is_read_line_by_line(
    reply: str, groups: list[tuple[str, list[int]]]
) -> None:
    assert read_groups(reply, passages=3, size=2) == groups


def test_the_model_groups_the_aspects_when_asked(index: Settings) -> None:
    by_model = load_settings(
        index_dir=index.index.dir,
        validate_mode="fast",
        compose="sections",
        section_passages=2,
        aspects="model",
    )
    order = _order(by_model)
    model = FakeChatModel(
        [
            "Police and river: 1, 3\nThe vote: 2\n",
            HOLDS[order[0]] + " " + HOLDS[order[2]].split("\n")[1].replace("[1]", "[2]"),
            HOLDS[order[1]],
            "No",
            WRAPUP,
        ]
    )
    validator = Validator(by_model.validator, _embedder())
    answer = Answerer(by_model.answer, _searcher(by_model), model, validator).ask(QUESTION)
    assert answer.status == "accepted"
    # The grouping call lists every evidence passage by its title; the sections follow it.
    assert all(t["title"] in model.requests[0][1]["content"] for t in CORPUS)
    assert [[c.source_id for c in s] for s in _cited_by_section(answer)] == [
        [order[0], order[2]],
        [order[1]],
    ]


def test_a_grouping_reply_with_no_usable_line_leaves_it_to_the_vectors(index: Settings) -> None:
    by_model = load_settings(
        index_dir=index.index.dir,
        validate_mode="fast",
        compose="sections",
        section_passages=1,
        aspects="model",
    )
    order = _order(by_model)
    model = FakeChatModel(
        ["I would group them by topic.", *(HOLDS[s] for s in order), "No", WRAPUP]
    )
    validator = Validator(by_model.validator, _embedder())
    answer = Answerer(by_model.answer, _searcher(by_model), model, validator).ask(QUESTION)
    # One passage a section, as the vectors group them with section_passages=1.
    assert answer.status == "accepted" and len(answer.sections.sections) == len(order)


def _cited_by_section(answer: Answer) -> list[list[Any]]:
    by_n = {c.n: c for c in answer.citations}
    return [
        [by_n[n] for n in dict.fromkeys(cited_numbers(s.text))] for s in answer.sections.sections
    ]


# -- the grammars -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("### Policy\nOfficers do not escort agents [1].", True),
        ("### Policy\nOfficers do not escort agents. [2]", True),
        ("### Policy\nIt costs 2.5 million dollars [1][3]. The chief said so [2].", True),
        ("### Policy\nA [1]. B b [1]. C c [1]. D d [1]. E e [1].", False),  # five sentences
        ("### Policy\nOfficers do not escort agents [4].", False),  # not a given passage
        ("### Policy\nOfficers do not escort agents.", False),  # uncited
        ("### Policy\nOfficers do not. They escort agents [1].", False),  # two under one marker
        ("Officers do not escort agents [1].", False),  # no heading
        ("### Policy\nOfficers do not escort agents [1][2][3].", False),  # three markers
    ],
)
def test_section_grammar_accepts_and_refuses(text: str, accepted: bool) -> None:
    shape = SectionShape(numbers=(1, 2, 3))
    assert shape.accepts(text) is accepted
    grammar = shape.gbnf()
    assert "num ::= " in grammar and '"4"' not in grammar


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        (WRAPUP, True),
        (WRAPUP.replace("- How is the rule enforced?\n", "- How is it enforced [1]?\n"), False),
        (WRAPUP.replace("on a call.", "on a call [2]."), False),
        (WRAPUP.replace("- How is the rule enforced?\n", ""), False),  # no question
    ],
)
def test_wrapup_grammar_accepts_and_refuses(text: str, accepted: bool) -> None:
    assert WrapupShape().accepts(text) is accepted


# -- sections, written and checked ------------------------------------------------------------
def test_every_section_is_checked_then_shown_and_the_answer_keeps_its_numbers(
    index: Settings,
) -> None:
    order = _order(index)
    shown: list[CheckedSection] = []
    tokens: list[str] = []
    answer, model = _answer(index, [*(HOLDS[s] for s in order), "No", WRAPUP], shown, tokens)
    assert answer.status == "accepted"
    # The drafts stream as written, without their markers: those are each section's own 1..m.
    draft = "".join(tokens)
    assert "The police chief said officers do not cooperate with ICE" in draft and "[" not in draft
    assert [s.n for s in shown] == [1, 2, 3]
    # Each section as streamed is the answer's section, with the same numbers and sources.
    assert [(s.heading, s.text) for s in shown] == [
        (s.heading, s.text) for s in answer.sections.sections
    ]
    assert [c.source_id for s in shown for c in s.citations] == order
    assert [c.source_id for c in answer.citations] == order
    # Each section's prompt shows only its own passage, numbered [1].
    prompts = [m[1]["content"] for m in model.requests[:3]]
    for source, prompt in zip(order, prompts, strict=True):
        text = next(c["text"] for c in CORPUS if c["id"] == source)
        assert text in prompt and "[1]" in prompt and "[2]" not in prompt
    assert answer.sections.bottom_line.startswith("No. ")
    assert answer.sections.summary and answer.sections.follow_ups == ["How is the rule enforced?"]
    assert "Whether officers ever meet agents on a call." in answer.sections.limits
    assert answer.timings["first_section"] <= answer.timings["total"]


def test_a_sentence_that_does_not_hold_is_cut_and_the_rest_stands(index: Settings) -> None:
    order = _order(index)
    first = HOLDS[order[0]] + " " + INVENTED
    answer, _ = _answer(index, [first, *(HOLDS[s] for s in order[1:]), "No", WRAPUP])
    assert answer.status == "repaired"
    assert [c.text for c in answer.dropped_sentences] == [INVENTED]
    assert "harbor" not in answer.text
    assert all(c.supported for c in answer.checks)


def test_a_question_is_no_finding_even_cited(index: Settings) -> None:
    """The model echoes the user's question, citing it: it is cut, not given a passage."""
    order = _order(index)
    heading, sentence = HOLDS[order[0]].split("\n")
    first = f"{heading}\nDo police help ICE [1]? {sentence}"
    answer, _ = _answer(index, [first, *(HOLDS[s] for s in order[1:]), "No", WRAPUP])
    assert [c.text for c in answer.dropped_sentences] == ["Do police help ICE [1]?"]
    assert answer.dropped_sentences[0].reason == "a question, not a finding"
    assert "Do police help ICE" not in answer.text and sentence in answer.text


@pytest.mark.parametrize(
    "echo",
    [
        "Question: {question}\n1. {title} {sentence}",  # the question line, a list number
        "{question} **The word**: {title} {sentence}",  # the bare question, a bold label
    ],
)
def test_the_prompts_scaffolding_copied_into_a_section_is_taken_off(
    index: Settings, echo: str
) -> None:
    """The model echoes its prompt: the question, a list number, a label, a passage's header
    before the passage's own words. What it copied is kept, under no scaffolding, and holds."""
    order = _order(index)
    heading, sentence = HOLDS[order[0]].split("\n")
    title = next(c["title"] for c in CORPUS if c["id"] == order[0])
    first = heading + "\n" + echo.format(question=QUESTION, title=title, sentence=sentence)
    answer, _ = _answer(index, [first, *(HOLDS[s] for s in order[1:]), "No", WRAPUP])
    assert answer.status == "accepted", answer.dropped_sentences
    assert sentence in answer.text
    assert "Question:" not in answer.text and f"{title} {sentence}" not in answer.text
    assert not answer.dropped_sentences


def test_a_section_with_nothing_that_holds_is_left_out_and_named(index: Settings) -> None:
    order = _order(index)
    answer, _ = _answer(index, ["### Harbor\n" + INVENTED, *(HOLDS[s] for s in order[1:]), "No"])
    assert len(answer.sections.sections) == 2
    title = next(c["title"] for c in CORPUS if c["id"] == order[0])
    assert f"{title}: what was written from it did not hold up" in answer.sections.limits


def test_nothing_that_holds_abstains(index: Settings) -> None:
    answer, _ = _answer(index, ["### Harbor\n" + INVENTED])
    assert answer.status == "abstained" and not answer.sections.sections[1:]
    assert "do not support an answer" in answer.text


def test_a_verdict_the_model_does_not_name_says_the_sources_do_not_settle_it(
    index: Settings,
) -> None:
    order = _order(index)
    answer, _ = _answer(index, [*(HOLDS[s] for s in order), "Perhaps", WRAPUP])
    assert answer.sections.bottom_line.startswith("The sources do not settle it. ")


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [("Yes", "Yes."), ("mostly no", "Mostly no."), ("Mixed.", "Mixed."), ("Maybe", None)],
)
def test_verdict_of_reply(reply: str, verdict: str | None) -> None:
    assert verdict_of(reply) == verdict


def test_a_sentence_citing_the_wrong_passage_is_reattributed(settings: Settings) -> None:
    validator = Validator(settings.validator, _embedder())
    passages = {
        1: "Chief statement\nThe police chief said officers do not cooperate with ICE.",
        2: "Council vote\nThe council voted unanimously on December 11.",
    }
    wrong = validator.check("The council voted unanimously on December 11 [1].", passages)
    check = wrong.sentences[0]
    assert not check.supported
    moved = reattribute(check, passages, validator, CheckRun())
    assert moved is not None and moved.reattributed and moved.citations == [2]
    assert moved.text == "The council voted unanimously on December 11 [2]."
    nowhere = validator.check(INVENTED, passages).sentences[0]
    assert reattribute(nowhere, passages, validator, CheckRun()) is None


# Two passages may hold one sentence between them only if they are linked: a name in common
# (the bridge the sentence leaves out), one source, or the sentence names what each is about.
LINKED = {
    "bridge left out of the claim": (
        "The 1999 runner-up is on the cover of a game by Studio 33.",
        "1999 season\nEddie Irvine was runner-up in 1999.",
        "Formula One Arcade\nBy Studio 33; Eddie Irvine is on the cover.",
        True,
    ),
    "one source": (
        "The chief spoke and the council voted.",
        "Minneapolis news\nThe chief spoke.",
        "Minneapolis news\nThe council voted.",
        True,
    ),
    "a comparison names each title": (
        "Sid Haig is older than Vic Darchinyan.",
        "Sid Haig\nBorn 1939, an actor.",
        "Vic Darchinyan\nBorn 1976, a boxer.",
        True,
    ),
    "the claim's words only, spread over two subjects": (
        "Muslim medicine is also a university alumni member.",
        "Yuan medicine\nIt was labeled huihui or Muslim medicine.",
        "Chicago alumni\nA university alumni member may vote.",
        False,
    ),
}


@pytest.mark.parametrize("case", LINKED, ids=list(LINKED))
def test_two_passages_hold_a_claim_only_when_linked(case: str) -> None:
    claim, first, second, expected = LINKED[case]
    assert linked(claim, first, second) is expected
    assert linked(claim, second, first) is expected


@pytest.mark.parametrize(
    ("passages", "expected"),
    [
        # One passage holds it all: no pair that repeats it.
        ({1: "Ann Lee\nAnn Lee won the Oslo race in 1990.", 2: "Ann Lee\nAnn Lee won."}, [[1]]),
        # The year only in the second: the pair, and never the first alone.
        (
            {1: "Ann Lee\nAnn Lee won the Oslo race.", 2: "Oslo race\nThe Oslo race, 1990."},
            [[1, 2]],
        ),
        # Unlinked passages are not paired, however many words they hold between them.
        ({1: "Ann Lee\nAnn Lee won a race.", 2: "Rowing\nThe Oslo event was in 1990."}, []),
        # A passage that lends one word of it ("race") does not make a pair: the single.
        (
            {
                1: "Ann Lee\nAnn Lee won the Oslo event in 1990.",
                2: "Ann Lee\nAnn Lee likes a race.",
            },
            [[1]],
        ),
        # A flagged passage (the year beside other words) is not proposed.
        ({1: "Ann Lee\nAnn Lee won the Oslo race, not in 1990 but later."}, []),
    ],
)
def test_candidates(passages: dict[int, str], expected: list[list[int]]) -> None:
    assert candidates("Ann Lee won the Oslo race in 1990.", passages, 3) == expected


# What each passage of a pair must hold of the claim that the other lacks (patterns of pairs the
# judge accepted in stored runs, where the second passage gave one word from another subject).
@pytest.mark.parametrize(
    ("claim", "own", "other", "expected"),
    [
        pytest.param(
            "Kiss formed in 1973.", "The year was 1973.", "Kiss formed.", True, id="a number"
        ),
        pytest.param(
            "Barnaby Joyce leads the party.",
            "Barnaby Joyce\nJoyce is an MP.",
            "The party\nIts leader since 2016.",
            True,
            id="a name of two words",
        ),
        pytest.param(
            "The zaju show mixed classical poetry.",
            "Classical poetry was mixed in.",
            "The zaju show.",
            True,
            id="three words",
        ),
        pytest.param(
            "After Kusala's uprising, Tugh Temur abdicated.",
            "The November Uprising was defeated.",
            "Tugh Temur abdicated in favour of Kusala.",
            False,
            id="one word from another subject",
        ),
        pytest.param(
            "The French thought Christianity would uplift other regions.",
            "Missions went to other regions.",
            "The French brought Christianity to uplift.",
            False,
            id="two ordinary words",
        ),
        pytest.param(
            "The University of Chicago has the Harvard Library.",
            "Chicago\nThe University of Chicago was founded.",
            "Harvard\nThe Harvard Library is the largest University library.",
            False,
            id="one name word",
        ),
    ],
)
def test_a_passage_adds_a_fact_to_a_pair(claim: str, own: str, other: str, expected: bool) -> None:
    assert adds_a_fact(claim, own, other) is expected


def _found(text: str, n: int) -> SentenceCheck:
    return SentenceCheck(text=text, citations=[n], supported=True, score=1.0, layer="fast")


def test_sources_that_give_different_figures_are_named_citing_both() -> None:
    a = _found("The operation made 670 arrests in the Twin Cities [1].", 1)
    b = _found("The operation made 400 arrests in the Twin Cities [2].", 2)
    c = _found("The council voted on December 11 [3].", 3)
    said = disagreements([a, b, c])
    assert said == [
        "The sources give different figures: the operation made 670 arrests in the Twin "
        "Cities [1]; the operation made 400 arrests in the Twin Cities [2]."
    ]
    assert disagreements([a, _found("The operation made 670 arrests in total [2].", 2)]) == []


# -- streamed to the CLI and over SSE ---------------------------------------------------------
def _scripted(index: Settings, monkeypatch: pytest.MonkeyPatch) -> ScriptedLiteLLM:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    order = _order(index)
    return ScriptedLiteLLM([], reply=[*(HOLDS[s] for s in order), "No", WRAPUP])


def test_cli_ask_prints_each_checked_section_then_the_rest(
    index: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_SECTION_PASSAGES", "1")
    monkeypatch.setenv("RAG_VALIDATE_MODE", "fast")
    fake = _scripted(index, monkeypatch)
    runtime = Runtime(embedder=_embedder(), models=scripted_models(fake))
    args = ["ask", QUESTION, "--index", str(index.index.dir), "--model", "openai/gpt-4o-mini"]
    result = CliRunner().invoke(cli, args, obj=runtime)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "section 1 checked" in result.stderr
    at = [out.index(f"## {n}. ") for n in (1, 2, 3)]
    assert at == sorted(at) and at[-1] < out.index("## Summary") < out.index("## Bottom line")
    assert "accepted" in out and "Sources" in out


def _service(index: Settings, monkeypatch: pytest.MonkeyPatch) -> Service:
    """A service whose scripted model writes one section per source, then the wrap-up."""
    fake = _scripted(index, monkeypatch)
    settings = load_settings(
        index_dir=index.index.dir,
        validate_mode="fast",
        llm_model="openai/gpt-4o-mini",
        section_passages=1,
        rate_limit_per_minute=0,
    )
    return Service(settings, embedder=_embedder(), models=scripted_models(fake))


def test_sse_sends_each_checked_section_before_the_answer(
    index: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = _service(index, monkeypatch)
    with (
        TestClient(create_app(service=service)) as client,
        client.stream(
            "POST", "/ask", json={"question": QUESTION}, headers={"Accept": "text/event-stream"}
        ) as response,
    ):
        raw = "".join(response.iter_text())
    events: list[tuple[str, Any]] = [
        (block.split("\n")[0].removeprefix("event: "), json.loads(block.split("\ndata: ", 1)[1]))
        for block in raw.strip().split("\n\n")
        if block.startswith("event:")
    ]
    names = [name for name, _ in events]
    sections = [data for name, data in events if name == "section"]
    assert names[-1] == "answer" and names.index("section") < names.index("answer")
    assert [s["n"] for s in sections] == [1, 2, 3]
    answer = Answer.model_validate(events[-1][1])
    assert [s["text"] for s in sections] == [s.text for s in answer.sections.sections]
    assert all(c["passage_id"] for s in sections for c in s["citations"])


def test_the_openai_stream_sends_checked_sections_aside_then_the_answer(
    index: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = _service(index, monkeypatch)
    body = {"model": "rag", "messages": [{"role": "user", "content": QUESTION}], "stream": True}
    with (
        TestClient(create_app(service=service)) as client,
        client.stream("POST", "/v1/chat/completions", json=body) as response,
    ):
        raw = "".join(response.iter_text())
    data = [b.removeprefix("data: ") for b in raw.strip().split("\n\n") if b.startswith("data:")]
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    sections = [c["rag"]["section"] for c in chunks if "section" in c.get("rag", {})]
    content = [c["choices"][0]["delta"].get("content") for c in chunks]
    # Each checked section comes aside, with no content, before any of the answer's text.
    first_text = next(i for i, c in enumerate(content) if c)
    assert sections and all(not content[i] for i, c in enumerate(chunks) if "rag" in c)
    assert max(i for i, c in enumerate(chunks) if "section" in c.get("rag", {})) < first_text
    text = "".join(c or "" for c in content)
    assert all(s["text"] in text for s in sections)
    assert chunks[-1]["rag"]["status"] == "accepted"


@pytest.mark.parametrize(
    ("question", "texts", "first"),
    [
        # the sentence that says the question's own words leads
        (
            "Are Minneapolis police helping ICE?",
            [
                "Six agencies hold agreements with federal immigration authorities.",
                "Minneapolis police officers do not help ICE with enforcement.",
            ],
            1,
        ),
        # the same text twice: the earlier one
        ("When did the bridge open?", ["The bridge opened in 1890."] * 2, 0),
    ],
)
def test_findings_nearest_the_question_first(question: str, texts: list[str], first: int) -> None:
    order = nearest_first(question, texts, HashEmbedder())
    assert sorted(order) == list(range(len(texts)))
    assert order[0] == first
