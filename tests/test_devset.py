"""The validator's dev set: each good form and each fault made as described."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.evaluate.devset import BAD_KINDS, GOOD_KINDS, DevPassage, build_items, number_passages

PASSAGES = [
    DevPassage(
        n=1,
        title="Bridge",
        text="The Stone Bridge (built 1890) has 3 arches. It is not open to cars.",
    ),
    DevPassage(n=2, title="River", text="The Avon River floods most springs."),
    DevPassage(
        n=3,
        title="Harbor",
        text="In 1950 the Kestrel Harbor handled 40 ships according to port records.",
    ),
]
CLAIMS = [
    ("The Stone Bridge (built 1890) has 3 arches.", 1),
    ("It is not open to cars.", 1),
    ("The Avon River floods most springs.", 2),
]


@pytest.fixture(scope="module")
def items() -> dict[str, str]:
    made = build_items("q1", "About the bridge?", CLAIMS, PASSAGES, [3], "test")
    assert all(i.label == ("good" if i.kind in GOOD_KINDS else "bad") for i in made)
    return {i.kind: i.answer for i in made}


def test_every_kind_applies_to_a_rich_example(items: dict[str, str]) -> None:
    assert set(items) == (set(GOOD_KINDS) | set(BAD_KINDS)) - {"condensed", "paraphrase"}


@pytest.mark.parametrize(
    ("claim", "kind", "answer"),
    [
        (
            "The old mill was built near the river, which floods most springs in the valley.",
            "condensed",
            "The old mill was built near the river [1].",
        ),
        (
            "The company was founded in 1890 and became the largest employer.",
            "paraphrase",
            "The firm was established in 1890 and turned into the biggest employer [1].",
        ),
    ],
)
def test_rewordings(claim: str, kind: str, answer: str) -> None:
    made = {i.kind: i.answer for i in build_items("q", "?", [(claim, 1)], PASSAGES, [3], "t")}
    assert made[kind] == answer


@pytest.mark.parametrize(
    ("kind", "answer"),
    [
        (
            "verbatim",
            "The Stone Bridge (built 1890) has 3 arches [1]. It is not open to cars [1]. "
            "The Avon River floods most springs [2].",
        ),
        (
            "trimmed",
            "The Stone Bridge has 3 arches [1]. It is not open to cars [1]. "
            "The Avon River floods most springs [2].",
        ),
        (
            "number_as_word",
            "The Stone Bridge (built 1890) has three arches [1]. "
            "It is not open to cars [1]. The Avon River floods most springs [2].",
        ),
        (
            "several_citations",
            "The Stone Bridge (built 1890) has 3 arches [1, 2]. "
            "It is not open to cars [1, 2]. The Avon River floods most springs [1, 2].",
        ),
        (
            "wrong_passage",
            "The Stone Bridge (built 1890) has 3 arches [3]. It is not open to cars [1]. "
            "The Avon River floods most springs [2].",
        ),
        (
            "out_of_range",
            "The Stone Bridge (built 1890) has 3 arches [4]. It is not open to cars [1]. "
            "The Avon River floods most springs [2].",
        ),
        (
            "uncited",
            "The Stone Bridge (built 1890) has 3 arches. It is not open to cars [1]. "
            "The Avon River floods most springs [2].",
        ),
        (
            "number_changed",
            "The Stone Bridge (built 1897) has 3 arches [1]. "
            "It is not open to cars [1]. The Avon River floods most springs [2].",
        ),
        (
            "name_changed",
            "The Kestrel Harbor (built 1890) has 3 arches [1]. "
            "It is not open to cars [1]. The Avon River floods most springs [2].",
        ),
        (
            "grafted",
            "The Stone Bridge (built 1890) has 3 arches [1]. It is not open to cars [1]. "
            "The Avon River floods most springs [2]. "
            "In 1950 the Kestrel Harbor handled 40 ships according to port records [1].",
        ),
        (
            "qualifier_dropped",
            "The Stone Bridge (built 1890) has 3 arches [1]. "
            "It is open to cars [1]. The Avon River floods most springs [2].",
        ),
    ],
)
def test_each_kind(items: dict[str, str], kind: str, answer: str) -> None:
    assert items[kind] == answer


def test_kinds_that_do_not_apply_are_skipped() -> None:
    made = build_items("q2", "?", [("Plain words here.", 1)], PASSAGES, [3], "test")
    kinds = {i.kind for i in made}
    assert not kinds & {
        "trimmed",
        "number_as_word",
        "several_citations",
        "number_changed",
        "qualifier_dropped",
        "name_changed",
    }
    assert {"verbatim", "grafted"} <= kinds
    # Structural faults need a claim long enough to be one (six words or more).
    assert not kinds & {"wrong_passage", "out_of_range", "uncited"}


def test_dates_keep_their_digits() -> None:
    made = build_items("q3", "?", [("Born July 14, 1939 in a town.", 1)], PASSAGES, [3], "t")
    assert "number_as_word" not in {i.kind for i in made}


def test_number_passages_is_deterministic_and_keeps_evidence() -> None:
    evidence = [("A", "alpha text"), ("B", "beta text")]
    pool = [("A", "alpha text"), ("C", "c"), ("D", "d"), ("E", "e")]
    first = number_passages(evidence, pool, seed="q")
    assert first == number_passages(evidence, pool, seed="q")
    passages, number_of, distractors = first
    assert len(passages) == 4 and set(number_of) == {"A", "B"}
    assert sorted([*number_of.values(), *distractors]) == [1, 2, 3, 4]
    assert {passages[n - 1].title for n in distractors} <= {"C", "D", "E"}


def test_the_shared_data_gives_every_kind(shared_data: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "validator_devset", Path(__file__).parents[1] / "bench" / "validator_devset.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    items = script.hotpot(shared_data / "hotpotqa") + script.squad(shared_data / "squad2")
    kinds = {i.kind for i in items}
    assert kinds == set(GOOD_KINDS) | set(BAD_KINDS)
    verbatim = {i.id.split(":")[0]: i.answer for i in items if i.kind == "verbatim"}
    assert len(verbatim) == 100 + 242
    for item in items:
        if item.label == "bad":
            assert item.answer != verbatim[item.id.split(":")[0]]
