"""The passage sentence closest to a question, for an answer whose drafted summary does not
answer it. A small model often writes its sections around the sentence that answers ("Why are
the small lakes in the parks emptied before winter?" drafted as the parks' size and ponds);
the relevance check then reads the summary as off the question and the answer abstains,
though a passage given says it in one sentence ("... the majority are emptied before winter
to clean them of plants and sediments"). That sentence, word for word with its number, is a
summary the validator can check; the policy shows it where it may answer and the judge reads
it as answering (settle.checked_relevance, RAG_CLOSEST_THRESHOLD). The same sentence, with the
answer's summary, is what the judge reads for a question's premise (`judged_premise`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from rag.embed.base import Embedder
from rag.text import sentences
from rag.validate.asked import asked_for, gives
from rag.validate.wording import missing_names, stems

_SHORTEST = 4  # words: a heading or a fragment is no answer
_RESTATES = 0.5  # share of the question's word stems the sentence holds at least


def closest_sentence(
    question: str, texts: Mapping[int, str], embedder: Embedder
) -> tuple[int, str] | None:
    """(passage number, sentence) of the sentence of `texts` closest to `question`: the cosine
    of their vectors plus the share of the question's word stems the sentence holds, each
    from 0 to 1, so a sentence must be near in sense and say the question's own words.
    None when the passages have no sentence of four words or more.

    >>> class Bag:  # a vector per word; a sentence is the normalised sum of its words'
    ...     def encode(self, texts):
    ...         import numpy as np
    ...         words = ["lakes", "emptied", "winter", "parks", "size"]
    ...         rows = np.array([[t.lower().count(w) for w in words] for t in texts], float)
    ...         return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-9)
    >>> texts = {1: "The parks cover 43 ha in size. The small lakes are emptied before winter.",
    ...          2: "Winter is mild in the parks of the city."}
    >>> question = "Why are the small lakes in the parks emptied before winter?"
    >>> closest_sentence(question, texts, Bag())
    (1, 'The small lakes are emptied before winter.')
    """
    found = [
        (n, s)
        for n, text in texts.items()
        for s in (sentences(text) or [text])
        if len(s.split()) >= _SHORTEST
    ]
    if not found:
        return None
    return found[nearest_first(question, [s for _, s in found], embedder)[0]]


def nearest_first(question: str, texts: list[str], embedder: Embedder) -> list[int]:
    """Positions of `texts`, nearest to `question` first: the cosine of their vectors plus the
    share of the question's word stems each holds (each from 0 to 1), earlier first on a tie."""
    if not texts:
        return []
    vectors = embedder.encode([question, *texts])
    cosines = vectors[1:] @ vectors[0]
    asked = stems(question)
    scores = [float(cosines[i]) + held_share(asked, t) for i, t in enumerate(texts)]
    return sorted(range(len(texts)), key=lambda i: (-scores[i], i))


def held_share(asked: frozenset[str], text: str) -> float:
    """The share of a question's word stems (`asked`) that `text` holds, from 0 to 1."""
    return len(asked & stems(text)) / max(len(asked), 1)


def may_answer(question: str, sentence: str) -> bool:
    """Whether `sentence` may stand as the answer to `question`, before the judge reads it: it
    names every name the question names, holds half the question's word stems or more, and
    gives the kind of thing asked for (a number for "how many"). A sentence short of the
    question's names or words answers a part of it at most: one hop of a question over two
    passages ("Heinkel HD 23 was a type of plane that was held on the craft that were first
    developed when?" of "The Heinkel HD 23 was a carrier-borne fighter biplane ...").

    >>> may_answer("Why are the lakes emptied before winter?", "They are emptied before winter.")
    True
    >>> may_answer("Why are the lakes of Warsaw emptied?", "The lakes are emptied to clean them.")
    False
    >>> may_answer("How many lakes are emptied?", "Most lakes are emptied before winter.")
    False
    """
    asked = stems(question)
    if len(asked & stems(sentence)) < _RESTATES * len(asked) or missing_names(question, sentence):
        return False
    kind = asked_for(question)
    return not kind or gives(kind, sentence)


def closest_reading(
    question: str,
    texts: Mapping[int, str],
    embedder: Embedder,
    relevance: Callable[[str, str], float],
) -> tuple[int, str, float] | None:
    """(passage number, sentence, the judge's reading) of the sentence of `texts` closest to
    `question`, where it may stand as the answer (`may_answer`); None where it may not, and
    the judge is not asked. The caller holds the reading against its threshold."""
    found = closest_sentence(question, texts, embedder)
    if found is None or not may_answer(question, found[1]):
        return None
    n, sentence = found
    return n, sentence, relevance(question, sentence)


class PremiseRead(NamedTuple):
    """The judge's premise read of a question (`judged_premise`)."""

    sentence: str  # the passage sentence closest to the question
    read: float  # the judge's probability that it and the summary say what the question takes
    held: float  # the share of the question's word stems the sentence holds


def judged_premise(
    question: str,
    said: str,
    texts: Mapping[int, str],
    embedder: Embedder,
    premise: Callable[[str, str], float],
) -> PremiseRead | None:
    """The sentence of `texts` closest to `question`, the judge's reading of whether it and
    `said`, the answer's summary, say what the question takes for granted, and how much of
    the question the sentence restates; None when the passages have no sentence to read. A
    question written from a sentence with one detail changed ("Ideal strings transmit what
    delayed forces?" of "Ideal strings transmit tension forces instantaneously ...") is
    answered in true, cited sentences that the relevance check reads as on the question; read
    with the sentence it was written from, the change shows. The summary is read too, so a
    multi-hop question whose closest sentence is one hop is not stopped for the hop the
    summary adds (docs/validator.md)."""
    found = closest_sentence(question, texts, embedder)
    if found is None:
        return None
    sentence = found[1]
    evidence = sentence if not said or said in sentence else f"{sentence} {said}"
    return PremiseRead(sentence, premise(question, evidence), held_share(stems(question), sentence))
