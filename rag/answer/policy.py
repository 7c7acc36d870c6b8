"""The pieces of the answer policy (settle.py): what a failed draft is sent back with, how it is
cut down to the sentences that hold, the abstention that shows what the sources did say, and
what an answer says to its question."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from rag.text import sentences, strip_markers
from rag.types import AnswerStatus, SentenceCheck, Verdict
from rag.validate.claims import says_no_answer, split_claims
from rag.validate.injection import is_instruction
from rag.validate.validator import CheckRun, Validator
from rag.validate.wording import stems

# draft, its problems -> a new draft
Reviser = Callable[[str, list[str]], str]

# What each failure means, in words a small model acts on (the checks' reasons are technical).
_PLAIN = {
    "out_of_range": "cites a passage number that was not given",
    "uncited": "has no citation",
    "fragment": "is too short to say anything the passage could support",
    "quote": "quotes words that are not in the cited passage",
    "number": "has a number the cited passage does not have",
    "unsupported": "is not what the cited passage says",
}


def repair_notes(verdict: Verdict) -> list[str]:
    """One line per failed sentence: the sentence and what is wrong with it."""
    return [
        f'"{c.text}" {_PLAIN.get(c.problem, "is not supported")}'
        for c in verdict.sentences
        if not c.supported
    ]


def without_feedback(text: str) -> str:
    """A rewrite without the sentences that copy back the problems it was sent (a small model
    often answers with the list itself); a line left empty goes too."""
    phrases = (*_PLAIN.values(), "is not supported", "problems found:")
    kept = []
    for line in text.splitlines(keepends=True):
        parts = sentences(line.strip())
        left = [p for p in parts if not any(phrase in p.lower() for phrase in phrases)]
        if len(left) == len(parts):
            kept.append(line)
        elif left:
            kept.append(" ".join(left) + "\n")
    return "".join(kept)


NO_SUPPORT = "The sources found do not support an answer to this question."


@dataclass
class Outcome:
    """The text to show, how it got there, and the checks behind it."""

    text: str
    status: AnswerStatus
    verdict: Verdict
    rounds: int = 0
    dropped: list[SentenceCheck] = field(default_factory=list)
    first: Verdict | None = None  # the first draft's, before any repair or cut
    notes: list[str] = field(default_factory=list)  # what failed on the way without stopping it
    relevance: float | None = None  # P(it answers the question), where that was checked


def facts(verdict: Verdict) -> list[SentenceCheck]:
    """The supported sentences that state something: "the sources do not answer [1]" does not,
    whatever it cites."""
    return [c for c in verdict.sentences if c.supported and not says_no_answer(c.text)]


def cut_down(text: str, verdict: Verdict) -> str:
    """`text` without the sentences that failed; lines left empty go too, headings stay."""
    out = text
    for check in verdict.sentences:
        if not check.supported:
            out = out.replace(check.text, "", 1)
    lines = [re.sub(r"[ \t]{2,}", " ", line).rstrip() for line in out.splitlines()]
    kept = [line for line in lines if line.strip() not in ("", "-", "*")]
    # A lead-in ("Problems found:", "In detail:") whose sentences were all cut leads nowhere.
    kept = [
        line
        for i, line in enumerate(kept)
        if not (
            line.endswith(":")
            and not line.lstrip().startswith("#")
            and (i + 1 == len(kept) or kept[i + 1].lstrip().startswith("#"))
        )
    ]
    return "\n".join(kept).strip() + "\n"


def on_question(sentence: str, question: str) -> bool:
    """Whether a sentence is about the question: it shares at least half of the question's
    content words (stemmed), one at the least.

    >>> on_question("The chief said officers do not cooperate with ICE [1].", "Do police help ICE?")
    False
    >>> on_question("Police officers do not help ICE [1].", "Do police help ICE?")
    True
    """
    asked = stems(question)
    shared = len(asked & stems(strip_markers(sentence)))
    return bool(asked) and shared >= max(1, math.ceil(len(asked) / 2))


def abstention(passages: Mapping[int, str], kept: str) -> str:
    """The abstention shown: no support, what did hold (if anything), the passages found."""
    lines = ["## Summary", NO_SUPPORT]
    held = list(dict.fromkeys(c.text for c in split_claims(kept) if c.citations))
    if held:
        lines += ["", "## What the sources do say", *held]
    closest = []
    for n, text in passages.items():
        said = [s for s in sentences(text) or [text] if not is_instruction(s)]
        if said:
            # Verbatim, so the abstention itself passes the validator.
            closest.append(f"- {said[0]} [{n}]")
    if closest:
        lines += ["", "## Closest passages found", *closest]
    lines += ["", "## What the sources cannot settle", "The question as asked."]
    return "\n".join(lines) + "\n"


def abstain(
    outcome: Outcome,
    passages: Mapping[int, str],
    texts: Mapping[int, str],
    validator: Validator,
    run: CheckRun,
    note: str,
) -> Outcome:
    """`outcome` turned into an abstention that keeps its supported sentences, with `note`;
    the closest passages it lists are `texts`."""
    text = abstention(texts, outcome.text)
    return Outcome(
        text,
        "abstained",
        validator.check(text, passages, run),
        rounds=outcome.rounds,
        dropped=outcome.dropped,
        first=outcome.first,
        notes=[*outcome.notes, note],
        relevance=outcome.relevance,
    )


def declines(text: str) -> bool:
    """Whether an answer's summary says the sources do not answer, and states nothing cited.

    >>> declines("## Summary\\nNo. The sources do not answer this question.\\n## 1. X\\nA b c [1].")
    True
    >>> declines("## Summary\\nThe bridge opened in 1890 [1].")
    False
    """
    summary = [c for c in split_claims(text) if c.section == "summary"]
    return any(says_no_answer(c.text) for c in summary) and not any(c.citations for c in summary)


def answered_part(text: str, verdict: Verdict, parts: tuple[str, ...] = ("summary",)) -> str:
    """What the answer says to the question: its supported sentences of `parts` (else its
    first supported ones), three at most of each part, without markers.

    >>> from rag.types import SentenceCheck as C
    >>> fact = C(text="Oslo is the capital [1].", supported=True, score=1, layer="fast")
    >>> verdict = Verdict(accepted=True, sentences=[fact])
    >>> answered_part("## Summary\\nOslo is the capital [1].", verdict)
    'Oslo is the capital.'
    """
    supported = {c.text for c in facts(verdict)}
    claims = [c for c in split_claims(text) if c.text in supported]
    said = [c for part in parts for c in [c for c in claims if c.section == part][:3]]
    return " ".join(strip_markers(c.text) for c in said or claims[:3])
