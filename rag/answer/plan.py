"""Plan: wide hits -> evidence from distinct sources -> aspects, each the passages of one future
section.

Evidence is chosen like maximal marginal relevance, by rank and source: the best passage of
each source first, a source's second passage only after every source has given one. Aspects
are grown from seeds: the best passage unlike those already chosen as seeds starts an aspect,
and every other passage joins the aspect whose seed it is most like, while that aspect has
room. A factoid question ("Who wrote ...?") gets one aspect of the best passages.

    >>> kind_of("Are Minneapolis police helping ICE?"), kind_of("Who wrote Dune?")
    ('yes_no', 'factoid')
    >>> kind_of("How did the council respond to the raid?")
    'open'
    >>> kind_of("If Gallu is a demon Lilu is what?")
    'factoid'
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from rag.embed.base import Vectors
from rag.text import asks_yes_no
from rag.types import Hit

QuestionKind = Literal["yes_no", "factoid", "open"]
# Evidence hits -> (label, rows) per aspect: another way to group than by vectors.
Grouping = Callable[[list[Hit]], list[tuple[str, list[int]]]]

# Questions that ask for an account rather than one thing: how something happened, why, what
# came of it. Every other question that is not yes/no asks for one thing (a name, a date, a
# place, an amount, one of two), however it is worded ("X is what?", "The film ... starred who?").
_OPEN = re.compile(
    r"^(?:why|how(?! (?:many|much|long|old|tall|far|big|large|often)\b)|explain|describe|"
    r"what (?:happened|did .* do|are the (?:effects|reasons|arguments|consequences))|"
    r"in what ways|to what extent)\b",
    re.I,
)


def kind_of(question: str) -> QuestionKind:
    """yes_no (its bottom line opens with a verdict), open (an account: why, how) or factoid
    (one short section)."""
    text = question.strip()
    if asks_yes_no(text):
        return "yes_no"
    if _OPEN.match(text):
        return "open"
    return "factoid"


@dataclass(frozen=True)
class Aspect:
    """The passages of one future section; `label` names it until the model writes a heading."""

    hits: list[Hit]
    label: str


def choose_evidence(hits: list[Hit], limit: int, per_source: int) -> list[int]:
    """Positions of up to `limit` hits, by rank, at most `per_source` from one source, each
    source's first passage before any source's second.

    >>> from rag.types import Hit
    >>> def hit(rank, source):
    ...     return Hit(rank=rank, score=1.0, retriever="fused", source_id=source,
    ...                passage_id=f"{source}{rank}", title=source, text="t", start=0, end=1)
    >>> choose_evidence([hit(1, "a"), hit(2, "a"), hit(3, "b"), hit(4, "a")], 3, 2)
    [0, 2, 1]
    """
    chosen: list[int] = []
    taken: dict[str, int] = {}
    for round_ in range(per_source):
        for i, h in enumerate(hits):
            if len(chosen) == limit:
                return chosen
            if i in chosen or taken.get(h.source_id, 0) != round_:
                continue
            taken[h.source_id] = round_ + 1
            chosen.append(i)
    return chosen


def group_aspects(vectors: Vectors, size: int, most: int) -> list[list[int]]:
    """Rows of `vectors` (in rank order) grouped into at most `most` aspects of at most `size`.

    Seeds are picked by rank, each the best row least like the seeds before it (half rank,
    half distance); the other rows join seeds with room, the closest pairs first; rows that
    find no room are left out (fewer, fuller sections read better).

    >>> v = np.array([[1, 0], [0, 1], [0.9, 0.1], [0.1, 0.9]], dtype=np.float32)
    >>> group_aspects(v, 2, 3)
    [[0, 2], [1, 3]]
    """
    n = len(vectors)
    if n == 0:
        return []
    count = min(most, max(1, math.ceil(n / size)))
    sims = vectors @ vectors.T
    seeds = [0]
    while len(seeds) < count:
        # Rank counts as much as novelty: a seed must be worth a section of its own.
        def worth(i: int) -> float:
            return (1 - float(sims[i, seeds].max())) - 0.5 * i / n

        rest = [i for i in range(n) if i not in seeds]
        seeds.append(max(rest, key=worth))
    groups = {s: [s] for s in seeds}
    # The closest (row, seed) pairs are joined first, so a full aspect holds its likest rows.
    pairs = sorted(
        ((float(sims[i, s]), i, s) for i in range(n) if i not in groups for s in seeds),
        key=lambda p: (-p[0], p[1], p[2]),
    )
    placed: set[int] = set()
    for _, i, s in pairs:
        if i not in placed and len(groups[s]) < size:
            groups[s].append(i)
            placed.add(i)
    return [sorted(groups[s]) for s in sorted(seeds)]


def plan_aspects(
    hits: list[Hit],
    vectors: Vectors,
    kind: QuestionKind,
    evidence: int,
    per_source: int,
    size: int,
    most: int,
    factoid_passages: int,
    grouping: Grouping | None = None,
) -> list[Aspect]:
    """The aspects to write, in the order of their best passage. `vectors` are the hits'
    (normalized) passage vectors, one row per hit. `grouping`, if given, groups the evidence
    instead of the vectors (labels and rows of the evidence); when it gives no group, the
    vectors do."""
    if not hits:
        return []
    if kind == "factoid":
        chosen = choose_evidence(hits, factoid_passages, per_source)
        return [Aspect([hits[i] for i in chosen], hits[chosen[0]].title)]
    chosen = choose_evidence(hits, evidence, per_source)
    groups = grouping([hits[i] for i in chosen]) if grouping is not None else []
    if groups:
        return [Aspect([hits[chosen[i]] for i in rows], label) for label, rows in groups]
    rows = np.asarray(vectors)[chosen]
    return [
        Aspect([hits[chosen[i]] for i in group], hits[chosen[group[0]]].title)
        for group in group_aspects(rows, size, most)
    ]
