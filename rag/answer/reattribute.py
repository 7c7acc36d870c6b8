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

from rag.text import strip_markers
from rag.types import SentenceCheck
from rag.validate.support import measure
from rag.validate.validator import CheckRun, Validator

_TRIES = 2  # full checks spent on one sentence: the best single passage, the best pair


def cite(sentence: str, numbers: list[int]) -> str:
    """`sentence` without its markers, citing `numbers` before its final punctuation."""
    bare = strip_markers(sentence).rstrip()
    marks = "".join(f"[{n}]" for n in numbers)
    if bare and bare[-1] in ".!?":
        return f"{bare[:-1]} {marks}{bare[-1]}"
    return f"{bare} {marks}"


def candidates(sentence: str, passages: Mapping[int, str], most: int = _TRIES) -> list[list[int]]:
    """Citations worth a full check, most promising first: passages whose words hold the
    sentence's numbers and raise no flag, by word coverage; then the two best together."""
    claim = strip_markers(sentence)
    scored = []
    for n, text in passages.items():
        evidence = measure(claim, [text])
        if not evidence.missing_numbers:
            scored.append((evidence.coverage - (0.5 if evidence.flags else 0.0), n))
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    singles = [[n] for score, n in scored if score > 0]
    pairs = []
    for a, b in combinations([n for _, n in scored[:3]], 2):
        evidence = measure(claim, [passages[a], passages[b]])
        if not evidence.missing_numbers and not evidence.flags:
            pairs.append((evidence.coverage, sorted([a, b])))
    pairs.sort(key=lambda pair: -pair[0])
    out = singles[:1] + [p for _, p in pairs[:1]] + singles[1:]
    return out[:most]


def reattribute(
    check: SentenceCheck,
    passages: Mapping[int, str],
    validator: Validator,
    run: CheckRun,
) -> SentenceCheck | None:
    """The failed `check`'s sentence cited to the given passage(s) that hold it, checked and
    marked `reattributed`; None when no passage does (or the sentence is too short to hold
    anything)."""
    if check.supported or check.problem == "fragment":
        return None
    for numbers in candidates(check.text, passages):
        if numbers == sorted(check.citations):
            continue  # already tried: that is why it failed
        text = cite(check.text, numbers)
        verdict = validator.check(text, {n: passages[n] for n in numbers}, run)
        if verdict.accepted and len(verdict.sentences) == 1:
            moved = verdict.sentences[0]
            return moved.model_copy(update={"reattributed": True})
    return None
