"""The validator's fast layer: how well a claim is backed by the text it cites, from word
coverage, numbers, names, dropped qualifiers and embedding similarity. Pure and cheap."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import numpy as np
import Stemmer

from rag.text import sentences, terms

_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
)
_TENS = "thirty forty fifty sixty seventy eighty ninety"
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(_UNITS.split())}
_NUMBER_WORDS.update({w: str(10 * i) for i, w in enumerate(_TENS.split(), start=3)})
_DIGITS = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?")
_WORD = re.compile(r"[A-Za-z]+")
_TOKEN = re.compile(r"[A-Za-z]+|\d+(?:,\d{3})*(?:\.\d+)?")
# Capitalized words; the first word of a sentence proves nothing, so callers skip it.
_NAME = re.compile(r"\b[A-Z][A-Za-z]*[a-z][A-Za-z]*\b|\b[A-Z]{2,}\b")
_COMMON_CAPITALS = (
    "I The A An In On At Of For And But Or If It Its This That These Those He She They We You "
    "His Her Their Our Yes No Not As By To From With After Before During While When Where What "
    "Who Why How According Although However Both Some Many Most Several"
)
_NOT_NAMES = frozenset(_COMMON_CAPITALS.split())
# Words that change what a claim says when dropped; checked against the word they bear on.
_QUALIFIER_WORDS = (
    "not never no only nearly almost about approximately around some mostly largely partly "
    "partially rarely seldom hardly barely over under least most allegedly reportedly one c"
)
_QUALIFIERS = frozenset(_QUALIFIER_WORDS.split())
_CLOSEST = 4  # windows the embedding compares a claim with
_STEMMER = Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


@lru_cache(maxsize=65536)
def stems(text: str) -> frozenset[str]:
    """Stemmed content words and numbers."""
    return frozenset(_stem(t) for t in terms(text))


def numbers(text: str) -> set[str]:
    """Numbers written in digits or as words, as digit strings ('1,200' -> '1200')."""
    found = {m.group().replace(",", "") for m in _DIGITS.finditer(text)}
    found |= {_NUMBER_WORDS[w] for w in _WORD.findall(text.lower()) if w in _NUMBER_WORDS}
    return found


def names(text: str) -> set[str]:
    """Capitalized words that are not the first word of a sentence."""
    out: set[str] = set()
    for sentence in sentences(text) or [text]:
        first = True
        for match in _NAME.finditer(sentence):
            word = match.group()
            if first and match.start() <= 2:
                first = False
                continue
            first = False
            if word not in _NOT_NAMES:
                out.add(word)
    return out


def _tokens(text: str) -> list[str]:
    return [t.lower().replace(",", "") for t in _TOKEN.findall(text)]


def _pairs(tokens: list[str]) -> list[tuple[str, str]]:
    """(qualifier, the content word it bears on) for each qualifier in `tokens`."""
    out = []
    for i, word in enumerate(tokens):
        if word in _QUALIFIERS:
            following = [w for w in tokens[i + 1 : i + 4] if w not in _QUALIFIERS]
            # "not the county": the qualified word is the first content word after it.
            target = next((w for w in following if terms(w)), None)
            if target is not None:
                out.append((word, target))
    return out


def dropped_qualifiers(claim: str, cited_sentence: str) -> list[str]:
    """Qualifiers the cited sentence puts on a word the claim keeps, but the claim does not."""
    claim_tokens = _tokens(claim)
    have = Counter(_pairs(claim_tokens))
    words = Counter(claim_tokens)
    out = []
    for (qualifier, target), n in Counter(_pairs(_tokens(cited_sentence))).items():
        if have[(qualifier, target)] < min(n, words[target]):
            out.append(qualifier)
    return out


@dataclass(frozen=True)
class Evidence:
    """What the fast layer measured for one claim against its cited text."""

    claim: str  # the claim without its markers
    coverage: float  # share of the claim's content words found in the cited text
    missing_numbers: list[str]
    missing_names: list[str]
    dropped: list[str]  # qualifiers of the closest cited sentence the claim dropped
    distant_numbers: list[str]  # numbers found in the cited text, but not near the claim's words
    closest: list[str]  # the cited sentences or pairs sharing the most words, best first
    similarity: float | None = None  # best cosine to a cited sentence or pair; None: not needed

    @property
    def flags(self) -> bool:
        """Whether a name, number or qualifier looks off."""
        return bool(self.missing_names or self.dropped or self.distant_numbers)

    def score_with(self, similarity: float) -> float:
        """The score this evidence would have at `similarity`."""
        base = 0.5 * self.coverage + 0.5 * max(similarity, 0.0)
        for flag in (self.missing_names, self.dropped, self.distant_numbers):
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


def windows(passage: str) -> list[str]:
    """A passage's sentences, then adjacent pairs: a claim may join two sentences."""
    parts = sentences(passage) or [passage]
    return parts + [f"{a} {b}" for a, b in pairwise(parts)]


def measure(claim: str, cited: list[str]) -> Evidence:
    """Lexical evidence for `claim` (markers stripped) against the cited passages' texts."""
    joined = " ".join(cited)
    claim_stems = stems(claim)
    coverage = len(claim_stems & stems(joined)) / len(claim_stems) if claim_stems else 1.0
    # Windows by shared words, most first; singles come first, so a single wins a tie with its
    # pair. The embedding compares the claim with the closest few only (the layer's speed).
    candidates = [w for text in cited for w in windows(text)]
    ranked = sorted(candidates, key=lambda w: -len(claim_stems & stems(w)))
    best = ranked[0] if ranked else ""  # the sentence (or pair) the claim most likely restates
    cited_words = set(_WORD.findall(joined))
    return Evidence(
        claim=claim,
        coverage=round(coverage, 4),
        missing_numbers=sorted(numbers(claim) - numbers(joined)),
        missing_names=sorted(n for n in names(claim) if n not in cited_words),
        dropped=dropped_qualifiers(claim, best) if best else [],
        distant_numbers=sorted((numbers(claim) & numbers(joined)) - numbers(best)),
        closest=ranked[:_CLOSEST],
    )


def similarity(claim_vector: np.ndarray, window_vectors: np.ndarray) -> float:
    """Best cosine between a claim and the closest windows (unit vectors, one a row)."""
    return round(float(np.max(window_vectors @ claim_vector)), 4) if len(window_vectors) else 0.0
