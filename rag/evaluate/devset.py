"""Devset: labeled good and bad cited answers built from QA sets, to calibrate the validator and
catch regressions. Each item is a `rag validate` input line plus its label and kind."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Literal

from pydantic import Field

from rag.text import split_sentences
from rag.types import Contract, ValidationPassage

GOOD_KINDS = (
    "verbatim",
    "trimmed",
    "condensed",
    "paraphrase",
    "number_as_word",
    "several_citations",
)
BAD_KINDS = (
    "wrong_passage",
    "out_of_range",
    "uncited",
    "number_changed",
    "name_changed",
    "grafted",
    "qualifier_dropped",
)
_NUMBER_WORD_LIST = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
)
_NUMBER_WORDS = _NUMBER_WORD_LIST.split()
_QUALIFIER = re.compile(
    r"\b(?:not |never |only |nearly |almost |about |approximately |some |mostly |largely |"
    r"partly |one of the )",
)
# A whole number: not part of a word, a decimal or a grouped number like 1,300,000.
_NUMBER = re.compile(r"(?<![\w.,])\d+(?!\w|[.,]\d)")
_NAME_WORDS = r"[A-Z][a-z]{2,}(?:\s[A-Z][a-z]{2,})*"
_NAME = re.compile(rf"\b{_NAME_WORDS}")
_AFTER_SPACE = re.compile(rf"(?<=\s){_NAME_WORDS}")  # the sentence's first word is skipped
# Plain substitutions a writer makes without changing what is said.
_SYNONYMS = {
    "located": "situated",
    "began": "started",
    "largest": "biggest",
    "film": "movie",
    "founded": "established",
    "received": "got",
    "popular": "well-liked",
    "approximately": "about",
    "currently": "now",
    "area": "region",
    "large": "big",
    "small": "little",
    "known as": "called",
    "consists of": "is made up of",
    "main": "principal",
    "important": "significant",
    "often": "frequently",
    "many": "numerous",
    "before": "prior to",
    "after": "following",
    "became": "turned into",
    "died": "passed away",
    "wrote": "penned",
    "written": "penned",
    "starring": "featuring",
    "band": "group",
    "company": "firm",
    "built": "constructed",
    "named": "called",
    "including": "among them",
    "several": "a number of",
    "produced": "made",
    "served as": "was",
    "began to": "started to",
    "also": "additionally",
    "because": "since",
    "however": "but",
    "used": "employed",
    "created": "made",
    "based in": "headquartered in",
    "people": "persons",
    "city": "municipality",
}
_SYNONYM = re.compile(r"\b(" + "|".join(sorted(_SYNONYMS, key=len, reverse=True)) + r")\b")


# A dev item is a `rag validate` input line plus its label: its passages are that line's.
DevPassage = ValidationPassage


class DevItem(Contract):
    """One labeled answer: `rag validate` input fields plus the truth about it."""

    id: str = Field(description="Question id and kind.")
    question: str = Field(description="The question answered.")
    answer: str = Field(description="Answer text with [n] citations.")
    passages: list[DevPassage] = Field(description="Passages the citations point into.")
    label: Literal["good", "bad"] = Field(description="Whether every citation holds.")
    kind: str = Field(description="Which good form or which fault.")
    dataset: str = Field(description="Where the question came from.")


Claim = tuple[str, int]  # a sentence and the number of the passage that supports it


def _cite(sentence: str, numbers: list[int]) -> str:
    body = sentence.rstrip().rstrip(".")
    marks = f" [{', '.join(str(n) for n in numbers)}]" if numbers else ""
    return f"{body}{marks}."


def _render(claims: list[tuple[str, list[int]]]) -> str:
    return " ".join(_cite(s, ns) for s, ns in claims)


_MONTH = re.compile(
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December)\s*$|^\s*(?:January|February|March|April|May|June|July|August|September|"
    r"October|November|December)\b"
)


def _number_word(sentence: str) -> str | None:
    for match in _NUMBER.finditer(sentence):
        value = int(match.group())
        in_date = _MONTH.search(sentence[: match.start()]) or _MONTH.search(sentence[match.end() :])
        if 1 <= value <= 20 and not in_date:
            return sentence[: match.start()] + _NUMBER_WORDS[value] + sentence[match.end() :]
    return None


def _number_changed(sentence: str) -> str | None:
    match = next(iter(_NUMBER.finditer(sentence)), None)
    if match is None:
        return None
    value = int(match.group())
    new = value + 7 if value > 1000 else value + 3
    return sentence[: match.start()] + str(new) + sentence[match.end() :]


def _inner_names(text: str) -> list[re.Match[str]]:
    """Runs of capitalized words after a lowercase word or a comma: not sentence-initial, where
    a capital proves nothing."""
    return [
        m for m in _NAME.finditer(text) if re.search(r"(?:\b[a-z]+|,|\bThe) $", text[: m.start()])
    ]


def _name_changed(sentence: str, cited: str, other: str) -> str | None:
    names = list(_AFTER_SPACE.finditer(sentence))
    replacements = [
        m.group() for m in _inner_names(other) if m.group() not in cited and len(m.group()) > 3
    ]
    if not names or not replacements:
        return None
    target = names[0]
    return sentence[: target.start()] + replacements[0] + sentence[target.end() :]


def _qualifier_dropped(sentence: str) -> str | None:
    match = _QUALIFIER.search(sentence)
    if match is None:
        return None
    return sentence[: match.start()] + sentence[match.end() :]


def _paraphrase(sentence: str) -> str | None:
    """At least two plain word substitutions."""
    if len(_SYNONYM.findall(sentence)) < 2:
        return None
    return _SYNONYM.sub(lambda m: _SYNONYMS[m.group()], sentence)


def _condensed(sentence: str) -> str | None:
    """The sentence cut to its first clause, as a writer sums up."""
    for match in re.finditer(r", (?:which|where|who|while|and|but|with) |; ", sentence):
        head = sentence[: match.start()]
        if len(head.split()) >= 6 and len(sentence[match.end() :].split()) >= 4:
            return head
    return None


def _trimmed(sentence: str) -> str | None:
    trimmed = re.sub(r"\s*\([^()]*\)", "", sentence)
    return trimmed if trimmed != sentence and len(trimmed.split()) >= 4 else None


def build_items(
    qid: str,
    question: str,
    claims: list[Claim],
    passages: list[DevPassage],
    distractors: list[int],
    dataset: str,
) -> list[DevItem]:
    """Every good form and every fault that applies to this question's claims."""
    by_n = {p.n: p for p in passages}
    base = [(s, [n]) for s, n in claims]
    out: list[DevItem] = []

    def add(kind: str, label: Literal["good", "bad"], answer: str | None) -> None:
        if answer is not None:
            out.append(
                DevItem(
                    id=f"{qid}:{kind}",
                    question=question,
                    answer=answer,
                    passages=passages,
                    label=label,
                    kind=kind,
                    dataset=dataset,
                )
            )

    def vary(change: Callable[[str, int], str | None]) -> str | None:
        """Apply `change` to the first claim it fits; None where it fits none."""
        for i, (sentence, n) in enumerate(claims):
            new = change(sentence, n)
            if new is not None:
                return _render([*base[:i], (new, [n]), *base[i + 1 :]])
        return None

    other = by_n[distractors[0]].text
    add("verbatim", "good", _render(base))
    add("trimmed", "good", vary(lambda s, n: _trimmed(s)))
    add("condensed", "good", vary(lambda s, n: _condensed(s)))
    add("paraphrase", "good", vary(lambda s, n: _paraphrase(s)))
    add("number_as_word", "good", vary(lambda s, n: _number_word(s)))
    supporting = sorted({n for _, n in claims})
    add(
        "several_citations",
        "good",
        _render([(s, supporting) for s, _ in claims]) if len(supporting) > 1 else None,
    )
    # Structural faults go on the first claim long enough to be one ("See: Stoker." is not).
    i = next((j for j, (s, _) in enumerate(claims) if len(s.split()) >= 6), None)

    def swap(numbers: list[int]) -> str | None:
        if i is None:
            return None
        return _render([*base[:i], (claims[i][0], numbers), *base[i + 1 :]])

    add("wrong_passage", "bad", swap([distractors[0]]))
    add("out_of_range", "bad", swap([len(passages) + 1]))
    add("uncited", "bad", swap([]))
    n0 = claims[0][1]
    add("number_changed", "bad", vary(lambda s, n: _number_changed(s)))
    add("name_changed", "bad", vary(lambda s, n: _name_changed(s, by_n[n].text, other)))
    grafted = next((other[a:b] for a, b in split_sentences(other) if b - a > 40), None)
    add("grafted", "bad", _render([*base, (grafted, [n0])]) if grafted else None)
    add("qualifier_dropped", "bad", vary(lambda s, n: _qualifier_dropped(s)))
    return out


def number_passages(
    evidence: list[tuple[str, str]], pool: list[tuple[str, str]], seed: str, n_distractors: int = 2
) -> tuple[list[DevPassage], dict[str, int], list[int]]:
    """Evidence (title, text) pairs and distractors drawn from `pool`, shuffled by `seed`.

    Returns the passages, the number of each evidence title, and the distractors' numbers.
    """
    rng = random.Random(seed)
    titles = {t for t, _ in evidence}
    candidates = [p for p in pool if p[0] not in titles]
    chosen = rng.sample(candidates, k=min(n_distractors, len(candidates)))
    items = [(t, x, True) for t, x in evidence] + [(t, x, False) for t, x in chosen]
    rng.shuffle(items)
    passages = [DevPassage(n=i, title=t, text=x) for i, (t, x, _) in enumerate(items, start=1)]
    number_of = {t: i for i, (t, _, is_evidence) in enumerate(items, start=1) if is_evidence}
    distractors = [i for i, (_, _, is_evidence) in enumerate(items, start=1) if not is_evidence]
    return passages, number_of, distractors
