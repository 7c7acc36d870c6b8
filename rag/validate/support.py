"""The validator's fast layer: how well a claim is backed by the text it cites, from word
coverage, numbers, names, dropped qualifiers, changed relations (wording.py) and embedding
similarity. Pure and cheap."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from rag.text import sentences, terms
from rag.validate.crossed import crossed_names
from rag.validate.frames import (
    added_words,
    changed_agent,
    changed_compounds,
    changed_pronoun,
    moved_place,
    swapped_words,
    unsaid_negation,
)
from rag.validate.framing import unframed
from rag.validate.persons import changed_first_names
from rag.validate.proximity import distant_numbers, own_count
from rag.validate.relations import changed_comparison, changed_relations, naming, negated_words
from rag.validate.wording import (
    dropped_qualifiers,
    held_stems,
    missing_names,
    name_words,
    numbers,
    stem,
    stems,
)

_CLOSEST = 4  # windows the embedding compares a claim with


@dataclass(frozen=True)
class Evidence:
    """What the fast layer measured for one claim against its cited text."""

    claim: str  # the claim without its markers
    coverage: float  # share of the claim's content words found in the cited text
    missing_numbers: list[str]
    missing_names: list[str]
    dropped: list[str]  # qualifiers of the closest cited sentence the claim dropped
    distant_numbers: list[str]  # numbers found in the cited text, but not near the claim's words
    changed: list[tuple[str, str]]  # (claim's word, cited word): a relation said otherwise
    unjoined: bool  # its cited passages each hold part of it, and share no word of it
    unmatched: list[str]  # the claim's content words the cited text does not have
    closest: list[str]  # the cited sentences or pairs sharing the most words, best first
    similarity: float | None = None  # best cosine to a cited sentence or pair; None: not needed
    # (name, name) a clause ties together that no one cited passage names together
    crossed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def _kinds(self) -> tuple[object, ...]:
        """What each kind of flag found: a name, qualifier, number, relation, join."""
        return (
            self.missing_names,
            self.dropped,
            self.distant_numbers,
            self.changed,
            self.unjoined or self.crossed,
        )

    @property
    def flags(self) -> bool:
        """Whether a name, number, qualifier, relation or join looks off."""
        return any(self._kinds)

    def score_with(self, similarity: float) -> float:
        """The score this evidence would have at `similarity`."""
        base = 0.5 * self.coverage + 0.5 * max(similarity, 0.0)
        for flag in self._kinds:
            if flag:
                base *= 0.5
        return round(min(max(base, 0.0), 1.0), 4)

    def needs_similarity(self, cuts: tuple[float, ...]) -> bool:
        """Whether the embedding could move the score across one of `cuts`; if not, it is
        skipped (the layer's speed). A flagged claim is rejected without it; one whose every
        word, name and number is in the cited text, in one place, with its qualifiers, scores 1."""
        if self.flags or self.coverage == 1.0:
            return False  # a flag rejects whatever the similarity; full coverage scores 1
        low, high = self.score_with(0.0), self.score_with(1.0)
        return any(low < cut <= high for cut in cuts)

    @property
    def score(self) -> float:
        """Support in [0, 1]: mean of coverage and similarity, halved for each kind of flag;
        where the similarity was not needed, the coverage stands in for it."""
        return self.score_with(self.coverage if self.similarity is None else self.similarity)


def windows(parts: list[str]) -> list[str]:
    """A passage's sentences, then adjacent pairs: a claim may join two sentences."""
    return parts + [f"{a} {b}" for a, b in pairwise(parts)]


def measure(claim: str, cited: list[str]) -> Evidence:
    """Lexical evidence for `claim` (markers stripped) against the cited passages' texts."""
    joined = " ".join(cited)
    claim = unframed(claim)
    claim_stems = stems(claim)
    cited_stems = stems(joined)
    held = held_stems(claim_stems, cited_stems)
    coverage = len(held) / len(claim_stems) if claim_stems else 1.0
    # Windows by shared words, most first; singles come first, so a single wins a tie with its
    # pair. The embedding compares the claim with the closest few only (the layer's speed).
    parts = [sentences(text) or [text] for text in cited]
    singles = [s for part in parts for s in part]
    candidates = [w for part in parts for w in windows(part)]
    ranked = sorted(candidates, key=lambda w: -len(claim_stems & stems(w)))
    best = ranked[0] if ranked else ""  # the sentence (or pair) the claim most likely restates
    whole = set(singles)
    single = next((w for w in ranked if w in whole), "")  # the closest one sentence
    return Evidence(
        claim=claim,
        coverage=round(coverage, 4),
        missing_numbers=sorted(numbers(claim) - numbers(joined) - own_count(claim)),
        missing_names=missing_names(claim, joined) + changed_first_names(claim, joined),
        dropped=dropped_qualifiers(claim, best) if best else [],
        distant_numbers=distant_numbers(claim, singles),
        changed=_changed(claim, best, single, singles, joined),
        unjoined=unjoined(claim_stems, cited),
        crossed=crossed_names(claim, cited),
        unmatched=sorted({w for w in terms(claim) if stem(w) not in held}),
        closest=ranked[:_CLOSEST],
    )


def unjoined(claim_stems: frozenset[str], cited: list[str]) -> bool:
    """Whether the claim joins passages that share none of its words and name nothing in
    common: each says part of it, none says what ties the parts ("Géza von Cziffra is American
    [2][3]" of a passage on him and one on an American director). Parts that share a word are
    joined by it ("X and Y are both dog breeds [1][2]").

    >>> cited = ["Géza von Cziffra was an Austrian director.", "King Vidor was American."]
    >>> unjoined(stems("Géza von Cziffra is American."), cited)
    True
    >>> cited[1] = "King Vidor was an American director."
    >>> unjoined(stems("Géza von Cziffra and King Vidor were both directors."), cited)
    False
    """
    if len(cited) < 2:
        return False  # one passage joins nothing
    held = [(held_stems(claim_stems, stems(text)), text) for text in cited]
    parts = [(h, name_words(text, anywhere=True)) for h, text in held if h]
    # Passages that name one thing in common are joined by it, though the claim leaves it out:
    # a song written at a luau in Laie [1], Laie in the Koolauloa District [2].
    return len(parts) >= 2 and not any(
        a & b or names & others
        for i, (a, names) in enumerate(parts)
        for b, others in parts[i + 1 :]
    )


# Where a claim's clauses part, within its sentences (a list may run on): punctuation, a dash.
_CLAUSE_BREAK = re.compile(r"[,;:()]|\s[-\u2013\u2014]\s")
# A clause about the sources, not about the world ("The sources give different figures:").
_ABOUT_SOURCES = re.compile(r"\b(?:passages?|sources?)\b", re.IGNORECASE)
_CLAUSE_WORDS = 3  # content words a clause needs to be read on its own


def unheld_clauses(claim: str, cited: str) -> list[str]:
    """The clauses of a claim of two or more that the cited text does not hold: of three
    content words or more, fewer than half there. A claim may restate its cited sentence and
    add a clause of its own ("..., which is a common practice in Nepal"), or open with the
    question's premise ("When a commission reached a decision, the Parliament must vote ...").

    >>> cited = "Many schools have the name Public School appended to them."
    >>> unheld_clauses("Many schools have the name Public School appended to them, "
    ...     "which is a common practice in Nepal.", cited)
    ['which is a common practice in Nepal.']
    >>> unheld_clauses("Many schools, as the sources say, have the name Public School.", cited)
    []
    >>> unheld_clauses("Schools in Nepal follow a common practice.", cited)  # one clause
    []
    """
    have = stems(cited)
    clauses = [c.strip() for s in sentences(claim) or [claim] for c in _CLAUSE_BREAK.split(s)]
    read = [(c, stems(c)) for c in clauses if len(stems(c)) >= _CLAUSE_WORDS]
    if len(read) < 2:
        return []
    return [
        c
        for c, words in read
        if not _ABOUT_SOURCES.search(c) and 2 * len(held_stems(words, have)) < len(words)
    ]


def _changed(
    claim: str, best: str, single: str, singles: list[str], joined: str
) -> list[tuple[str, str]]:
    """What the claim says otherwise than its cited text, each (claim's words, cited words):
    `best` is its closest sentence or pair, `single` its closest sentence."""
    found = negated_words(claim, joined) + changed_pronoun(claim, joined)
    found += added_words(claim, joined) + moved_place(claim, singles)
    found += unsaid_negation(claim, singles) + changed_compounds(claim, joined)
    found += [(clause, "") for clause in unheld_clauses(claim, joined)]
    if best:
        found += changed_relations(claim, " ".join([best, *naming(claim, singles)]))
        # "unencrypted" of a sentence that says "encrypted", the passage's other word elsewhere
        found += negated_words(claim, single) + swapped_words(claim, best, singles)
        found += changed_agent(claim, best) + changed_comparison(claim, best)
    return list(dict.fromkeys(found))


def similarity(claim_vector: np.ndarray, window_vectors: np.ndarray) -> float:
    """Best cosine between a claim and the closest windows (unit vectors, one a row)."""
    return round(float(np.max(window_vectors @ claim_vector)), 4) if len(window_vectors) else 0.0
