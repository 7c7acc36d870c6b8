"""Re-attribution: a sentence with no citation, or citing a passage that does not hold it, gets
the given passage (or pair of passages) that does, before anything is cut.

Candidates are ranked by the validator's cheap lexical layer, so at most two full checks (and
so at most two judge calls) are spent on one sentence: the best single passage, then the best
pair.

    >>> cite("Officers do not escort agents.", [2, 3])
    'Officers do not escort agents [2][3].'
    >>> cite("Is it so?", [1])
    'Is it so [1]?'
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations
from typing import NamedTuple

from rag.text import cited_title, markers, strip_markers
from rag.types import SentenceCheck
from rag.validate.framing import unframed
from rag.validate.support import measure
from rag.validate.validator import CheckRun, Validator
from rag.validate.wording import name_words, numbers, stems

_TRIES = 2  # full checks spent on one sentence: the best single passage, the best pair
# What a passage must add to a pair, of the claim's and beyond the other passage: a number, a
# name of two words or more, or this many words. One word more ("uprising", "other regions",
# "another") is what a passage on something else holds by chance.
_ADDED_WORDS = 3


def cite(sentence: str, numbers: list[int]) -> str:
    """`sentence` without its markers, citing `numbers` before its final punctuation."""
    bare = strip_markers(sentence).rstrip()
    marks = markers(numbers)
    if bare and bare[-1] in ".!?":
        return f"{bare[:-1]} {marks}{bare[-1]}"
    return f"{bare} {marks}"


def linked(claim: str, first: str, second: str) -> bool:
    """Whether two passages can hold one claim together: they are parts of one source, or
    name someone or something in common (the bridge, often left out of the claim), or the
    claim names what each passage's title names (a comparison). Two passages that only share
    the claim's words between them do not ("Muslim medicine is a university alumni member"
    from one passage on each).

    >>> kiss, criss = "Kiss\\nIts drummer is Peter Criss.", "Peter Criss\\nCriss was born in 1945."
    >>> linked("The band's drummer was born in 1945.", kiss, criss)
    True
    >>> ann, bob = "Ann Lee\\nShe was born in 1950.", "Bob Ray\\nHe was born in 1960."
    >>> linked("Ann is older than Bob.", ann, bob)
    True
    >>> linked("Ann is a member of the club.", ann, "Rowing\\nA club member rows.")
    False
    """
    heads = [cited_title(first), cited_title(second)]
    if heads[0] and heads[0] == heads[1]:
        return True
    if name_words(first) & name_words(second):
        return True
    said = name_words(claim, anywhere=True)
    return all(name_words(head, anywhere=True) & said for head in heads)


class _Held(NamedTuple):
    """What of a claim one passage holds: its word stems, numbers and name words."""

    words: frozenset[str]
    numbers: set[str]
    names: frozenset[str]


def _held(claim: str, text: str) -> _Held:
    return _Held(
        stems(text) & stems(claim),
        numbers(text) & numbers(claim),
        name_words(text, anywhere=True) & name_words(claim, anywhere=True),
    )


def adds_a_fact(claim: str, own: str, other: str) -> bool:
    """Whether passage `own` holds a part of `claim` that passage `other` lacks: a number, two
    name words, or three words; so that a pair is two passages each giving a fact of it, not
    one passage that gives it and another that lends a word.

    >>> claim = "Ann Lee won the Oslo race in 1990."
    >>> adds_a_fact(claim, "The Oslo race was in 1990.", "Ann Lee won the Oslo race.")
    True
    >>> adds_a_fact(claim, "A race day.", "Ann Lee won the Oslo event in 1990.")
    False
    """
    return _adds(_held(claim, own), _held(claim, other))


def _adds(own: _Held, other: _Held) -> bool:
    return (
        bool(own.numbers - other.numbers)
        or len(own.names - other.names) >= 2
        or len(own.words - other.words) >= _ADDED_WORDS
    )


def candidates(sentence: str, passages: Mapping[int, str], most: int = _TRIES) -> list[list[int]]:
    """Citations worth a full check, most promising first: the best single passage and the
    best pair, by the share of the sentence's words they hold (a pair only where each passage
    adds a fact of it, `adds_a_fact`, so one passage that holds it is not cited twice, nor
    propped up by a word from another), among those holding its
    numbers with no flag raised; the better of the two first (the single on a tie), then the
    rest by that share.

    >>> won, held = "Ann Lee won the Oslo race.", "The Oslo race was in 1990."
    >>> candidates("Ann Lee won the Oslo race in 1990.", {1: won, 2: held, 3: "Ann Lee ran."})
    [[1, 2]]
    >>> all_of = "Ann Lee won the Oslo race in 1990."
    >>> candidates("Ann Lee won the Oslo race in 1990.", {1: won, 2: held, 3: all_of})
    [[3], [1, 2]]
    """
    claim = unframed(strip_markers(sentence))
    words, wanted = stems(claim), numbers(claim)
    if not words:
        return []
    held = {n: _held(claim, text) for n, text in passages.items()}
    singles = [(len(h.words) / len(words), [n]) for n, h in held.items() if h.numbers == wanted]
    pairs = []
    for a, b in combinations(sorted(passages), 2):
        if held[a].numbers | held[b].numbers != wanted:
            continue
        if not linked(claim, passages[a], passages[b]):
            continue
        if _adds(held[a], held[b]) and _adds(held[b], held[a]):
            pairs.append((len(held[a].words | held[b].words) / len(words), [a, b]))
    # The flag check reads the passages (the layer's slow part): only for the best few.
    ranked = sorted(
        (c for c in singles + pairs if c[0] > 0), key=lambda c: (-c[0], len(c[1]), c[1])
    )
    clean = [
        (share, numbers_)
        for share, numbers_ in ranked[: 3 * most]
        if not measure(claim, [passages[n] for n in numbers_]).flags
    ]
    best: dict[int, tuple[float, list[int]]] = {}  # by size: the best single, the best pair
    for c in clean:
        best.setdefault(len(c[1]), c)
    first = sorted(best.values(), key=lambda c: (-c[0], len(c[1])))
    rest = [c for c in clean if c not in first]
    return [numbers_ for _, numbers_ in first + rest][:most]


def reattribute(
    check: SentenceCheck,
    passages: Mapping[int, str],
    validator: Validator,
    run: CheckRun,
) -> SentenceCheck | None:
    """The failed `check`'s sentence cited to the given passage(s) that hold it, checked and
    marked `reattributed`; None when no passage does (or the sentence is too short to hold
    anything). At most two citations are checked in full."""
    if check.supported or check.problem == "fragment":
        return None
    tried = sorted(check.citations)  # already checked: that is why it failed
    others = [n for n in candidates(check.text, passages, _TRIES + 1) if n != tried]
    for cited in others[:_TRIES]:
        text = cite(check.text, cited)
        verdict = validator.check(text, {n: passages[n] for n in cited}, run)
        if verdict.accepted and len(verdict.sentences) == 1:
            moved = verdict.sentences[0]
            return moved.model_copy(update={"reattributed": True})
    return None
