"""Policy: a validated draft -> what the user is shown. Accepted as written; else sent back with
its failures (prompts/repair.md) up to RAG_REPAIR_ROUNDS times; else cut down to the sentences
that hold; else an abstention that shows what the sources did say."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from rag.answer.closest import closest_reading
from rag.answer.shape import parse_answer, render_answer
from rag.errors import LLMError
from rag.text import sentences, strip_markers
from rag.types import AnswerStatus, Section, SentenceCheck, Verdict
from rag.validate.asked import asked_for, gives
from rag.validate.claims import says_no_answer, split_claims
from rag.validate.injection import is_instruction
from rag.validate.premise import false_premises
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
OFF_QUESTION = (
    "what the sources support does not answer the question as asked (the relevance check read "
    "{p:.2f} against the threshold {t:.2f}), so the answer abstains and shows it as what the "
    "sources do say"
)
FALSE_PREMISE = (
    "the question takes for granted what the sources found do not say ({reason}), so the answer "
    "abstains and shows what they do say"
)
NOT_GIVEN = (
    "the question asks for {kind} and the answer's summary gives none, so it answers another "
    "question; it abstains and shows what the sources do say"
)
CLOSEST = (
    "the drafted summary did not answer the question as asked (the relevance check read "
    "{was:.2f}); the passage sentence closest to the question does (read {p:.2f}, at least "
    "{t:.2f}), so it stands as the summary, word for word"
)
DECLINED = (
    "the answer's own summary says the sources do not answer the question, so it abstains and "
    "shows its supported sentences as what the sources do say"
)


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


def _supported_claims(verdict: Verdict) -> int:
    return len(_facts(verdict))


def _facts(verdict: Verdict) -> list[SentenceCheck]:
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


def _answers(text: str, verdict: Verdict, question: str) -> bool:
    """Whether a cut-down text still answers: its summary keeps a supported claim, or a
    supported claim elsewhere is about the question."""
    supported = {c.text for c in _facts(verdict)}
    return any(
        c.text in supported and (c.section == "summary" or on_question(c.text, question))
        for c in split_claims(text)
    )


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


def _settle(
    draft: str,
    passages: Mapping[int, str],
    validator: Validator,
    revise: Reviser | None,
    rounds: int,
    run: CheckRun,
    question: str,
    texts: Mapping[int, str],
) -> Outcome:
    """settle() before the relevance check."""
    verdict = first = validator.check(draft, passages, run)
    if verdict.accepted and _facts(verdict):
        return Outcome(draft, "accepted", verdict, first=first)
    best, best_verdict = draft, verdict
    used = 0
    notes: list[str] = []
    while not verdict.accepted and revise is not None and used < rounds and verdict.sentences:
        if run.judge_failure is not None:
            break  # a rewrite cannot fix a judge that does not answer
        used += 1
        try:
            draft = revise(draft, repair_notes(verdict))
        except LLMError as exc:
            # The draft is still there to cut down: a failed repair is no reason to fail.
            notes.append(f"the repair request failed, so the draft was cut down instead: {exc}")
            break
        verdict = validator.check(draft, passages, run)
        if verdict.accepted and _facts(verdict):
            return Outcome(draft, "repaired", verdict, rounds=used, first=first)
        if _supported_claims(verdict) >= _supported_claims(best_verdict):
            best, best_verdict = draft, verdict
    dropped = [c for c in best_verdict.sentences if not c.supported]
    cut = cut_down(best, best_verdict)
    cut_verdict = validator.check(cut, passages, run)
    if cut_verdict.accepted and cut_verdict.sentences and _answers(cut, cut_verdict, question):
        return Outcome(
            cut, "repaired", cut_verdict, rounds=used, dropped=dropped, first=first, notes=notes
        )
    kept = cut if cut_verdict.accepted else ""
    text = abstention(texts, kept)
    return Outcome(
        text,
        "abstained",
        validator.check(text, passages, run),
        rounds=used,
        dropped=dropped,
        first=first,
        notes=notes,
    )


def settle(
    draft: str,
    passages: Mapping[int, str],
    validator: Validator,
    revise: Reviser | None,
    rounds: int,
    run: CheckRun | None = None,
    question: str = "",
    texts: Mapping[int, str] | None = None,
) -> Outcome:
    """Validate `draft`, repair it, cut it down or abstain; never accept what did not pass.
    Every check of the draft and what becomes of it shares `run`; a cut-down draft that keeps
    a supported sentence about `question` answers it, and is not an abstention. What is left
    must answer `question` where the validator can tell (its relevance check), else it too
    abstains. `passages` are what each number vouches for (title and text); an abstention
    quotes `texts` (the passages' text alone; default `passages`)."""
    run = run if run is not None else CheckRun()
    texts = passages if texts is None else texts
    outcome = _settle(draft, passages, validator, revise, rounds, run, question, texts)
    if outcome.status != "abstained" and declines(outcome.text):
        # Sections of true sentences under "the sources do not answer" are not an answer.
        return abstain(outcome, passages, texts, validator, run, DECLINED)
    return checked_relevance(outcome, question, passages, texts, validator, run)


def checked_relevance(
    outcome: Outcome,
    question: str,
    passages: Mapping[int, str],
    texts: Mapping[int, str],
    validator: Validator,
    run: CheckRun,
    parts: tuple[str, ...] = ("summary",),
) -> Outcome:
    """`outcome` if what it says answers `question` (or the validator cannot tell), else an
    abstention that shows it as what the sources do say: first when the question takes for
    granted what the passages do not say (validate/premise.py), then when its summary does not
    give the kind of thing asked (validate/asked.py), then when the judge reads its supported
    sentences of `parts` as not answering it, nor the passage sentence closest to it."""
    if outcome.status == "abstained" or not question:
        return outcome
    if validator.settings.premise_check:
        premises = false_premises(question, list(passages.values()))
        if premises:
            note = FALSE_PREMISE.format(reason=premises[0])
            return abstain(outcome, passages, texts, validator, run, note)
    kind = asked_for(question)
    if validator.settings.asked_check and kind:
        summary = answered_part(outcome.text, outcome.verdict)
        if not gives(kind, summary):
            return abstain(outcome, passages, texts, validator, run, NOT_GIVEN.format(kind=kind))
    relevance = validator.relevance
    if relevance is None:
        return outcome
    said = answered_part(outcome.text, outcome.verdict, parts)
    try:
        outcome.relevance = p = relevance(question, said)
    except LLMError as exc:
        outcome.notes.append(f"whether the answer answers the question was not checked: {exc}")
        return outcome
    threshold = validator.settings.relevance_threshold
    if p >= threshold:
        return outcome
    closest = _closest(question, outcome.text, texts, validator)
    if closest is not None:
        text, read = closest
        verdict = validator.check(text, passages, run)
        if verdict.accepted:
            verdict.sentences = as_made(outcome.verdict.sentences, verdict)
            note = CLOSEST.format(was=p, p=read, t=validator.settings.closest_threshold)
            return Outcome(
                text,
                "repaired",
                verdict,
                rounds=outcome.rounds,
                dropped=outcome.dropped,
                first=outcome.first,
                notes=[*outcome.notes, note],
                relevance=read,
            )
    return abstain(outcome, passages, texts, validator, run, OFF_QUESTION.format(p=p, t=threshold))


def as_made(made: Iterable[SentenceCheck], verdict: Verdict) -> list[SentenceCheck]:
    """The checks of `verdict`, each as it was made among `made` where the sentence is the
    same: checking shown text again keeps the re-attributions that made it."""
    by_text = {c.text: c for c in made}
    return [by_text.get(c.text, c) for c in verdict.sentences]


def _closest(
    question: str, text: str, texts: Mapping[int, str], validator: Validator
) -> tuple[str, float] | None:
    """`text` with its summary replaced by the passage sentence of `texts` closest to
    `question` (closest.py), and the judge's reading of that sentence, where it may stand as
    the answer (`may_answer`) and the judge reads it as answering; None otherwise. The sentence
    is the bottom line too: the drafted one comes to what the replaced summary said. Their sentences
    stay in their sections (one draft's, in none, go to one of their own)."""
    settings, relevance = validator.settings, validator.relevance
    if not settings.closest_sentence or relevance is None:
        return None
    try:
        found = closest_reading(question, texts, validator.embedder, relevance)
    except LLMError:
        return None
    if found is None or found[2] < settings.closest_threshold:
        return None
    n, sentence, read = found
    parts = parse_answer(text)
    shown = " ".join(s.text for s in parts.sections)
    drafted = sentences(parts.summary) + sentences(parts.bottom_line)
    kept = [s for s in dict.fromkeys(drafted) if s not in shown]
    if kept:
        parts.sections.append(Section(heading="Also found", text=" ".join(kept)))
    body, end = (sentence[:-1], sentence[-1]) if sentence[-1] in ".!?" else (sentence, ".")
    parts.summary = parts.bottom_line = f"{body} [{n}]{end}"
    return render_answer(parts), read


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
    supported = {c.text for c in _facts(verdict)}
    claims = [c for c in split_claims(text) if c.text in supported]
    said = [c for part in parts for c in [c for c in claims if c.section == part][:3]]
    return " ".join(strip_markers(c.text) for c in said or claims[:3])
