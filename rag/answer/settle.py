"""Policy: a validated draft -> what the user is shown. Accepted as written; else sent back with
its failures (prompts/repair.md) up to RAG_REPAIR_ROUNDS times; else cut down to the sentences
that hold; else an abstention that shows what the sources did say. What is shown must then
answer the question as asked (checked_relevance), or it too abstains."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rag.answer.closest import closest_reading, judged_premise
from rag.answer.policy import (
    Outcome,
    Reviser,
    abstain,
    abstention,
    answered_part,
    cut_down,
    declines,
    facts,
    on_question,
    repair_notes,
)
from rag.answer.shape import parse_answer, render_answer
from rag.config import ValidatorSettings
from rag.errors import LLMError
from rag.text import asks_yes_no, sentences
from rag.types import Section, SentenceCheck, Verdict
from rag.validate.asked import asked_for, gives, pointing_opening
from rag.validate.claims import split_claims
from rag.validate.premise import false_premises
from rag.validate.validator import CheckRun, Validator

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
POINTING = (
    'the answer\'s summary opens with "{word}", which points to something it does not name, '
    "so on its own it does not answer the question; it abstains and shows what the sources do say"
)
CLOSEST = (
    "the drafted summary did not answer the question as asked ({why}); the passage sentence "
    "closest to the question does (read {p:.2f}, at least {t:.2f}), so it stands as the "
    "summary, word for word"
)
_READ = "the relevance check read {p:.2f}"
_OPENS = 'it opens with "{word}", naming nothing'

DECLINED = (
    "the answer's own summary says the sources do not answer the question, so it abstains and "
    "shows its supported sentences as what the sources do say"
)


def _supported_claims(verdict: Verdict) -> int:
    return len(facts(verdict))


def _answers(text: str, verdict: Verdict, question: str) -> bool:
    """Whether a cut-down text still answers: its summary keeps a supported claim, or a
    supported claim elsewhere is about the question."""
    supported = {c.text for c in facts(verdict)}
    return any(
        c.text in supported and (c.section == "summary" or on_question(c.text, question))
        for c in split_claims(text)
    )


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
    if verdict.accepted and facts(verdict):
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
        if verdict.accepted and facts(verdict):
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
    sentences of `parts` as not answering it, or its summary opens with a word pointing to what
    it does not name, and the passage sentence closest to it does not answer either, and last
    when the judge reads that sentence and the answer as not saying what the question takes
    for granted (`_premise_note`)."""
    if outcome.status == "abstained" or not question:
        return outcome
    if validator.settings.premise_check:
        premises = false_premises(question, list(passages.values()))
        if premises:
            note = FALSE_PREMISE.format(reason=premises[0])
            return abstain(outcome, passages, texts, validator, run, note)
    kind, pointing = asked_for(question), ""
    if validator.settings.asked_check:
        summary = answered_part(outcome.text, outcome.verdict)
        if kind and not gives(kind, summary):
            return abstain(outcome, passages, texts, validator, run, NOT_GIVEN.format(kind=kind))
        pointing = pointing_opening(summary)
    relevance = validator.relevance
    if relevance is None and not pointing:
        return outcome
    # A pointing summary is set aside whatever the judge would read it at: it is not asked.
    p, threshold = 0.0, validator.settings.relevance_threshold
    if relevance is not None and not pointing:
        said = answered_part(outcome.text, outcome.verdict, parts)
        try:
            outcome.relevance = p = relevance(question, said)
        except LLMError as exc:
            outcome.notes.append(f"whether the answer answers the question was not checked: {exc}")
            return outcome
    shown = outcome if p >= threshold and not pointing else None
    closest = None if shown else _closest(question, outcome.text, texts, validator, pointing)
    if closest is not None:
        text, read = closest
        verdict = validator.check(text, passages, run)
        if verdict.accepted:
            verdict.sentences = as_made(outcome.verdict.sentences, verdict)
            why = _OPENS.format(word=pointing) if pointing else _READ.format(p=p)
            note = CLOSEST.format(why=why, p=read, t=validator.settings.closest_threshold)
            shown = Outcome(
                text,
                "repaired",
                verdict,
                rounds=outcome.rounds,
                dropped=outcome.dropped,
                first=outcome.first,
                notes=[*outcome.notes, note],
                relevance=read,
            )
    if shown is None:
        note = POINTING.format(word=pointing) if pointing else OFF_QUESTION.format(p=p, t=threshold)
        return abstain(outcome, passages, texts, validator, run, note)
    unsaid = _premise_note(shown, question, texts, validator)
    return shown if unsaid is None else abstain(shown, passages, texts, validator, run, unsaid)


def as_made(made: Iterable[SentenceCheck], verdict: Verdict) -> list[SentenceCheck]:
    """The checks of `verdict`, each as it was made among `made` where the sentence is the
    same: checking shown text again keeps the re-attributions that made it."""
    by_text = {c.text: c for c in made}
    return [by_text.get(c.text, c) for c in verdict.sentences]


def _closest(
    question: str, text: str, texts: Mapping[int, str], validator: Validator, pointing: str = ""
) -> tuple[str, float] | None:
    """`text` with its summary replaced by the passage sentence of `texts` closest to
    `question` (closest.py), and the judge's reading of that sentence, where it may stand as
    the answer (`may_answer`) and the judge reads it as answering; None otherwise. The sentence
    is the bottom line too: the drafted one comes to what the replaced summary said. Their sentences
    stay in their sections (one draft's, in none, go to one of their own). Where the summary
    was set aside for its `pointing` opening word, a sentence opening with one is none."""
    settings, relevance = validator.settings, validator.relevance
    if not settings.closest_sentence or relevance is None:
        return None
    try:
        found = closest_reading(question, texts, validator.embedder, relevance)
    except LLMError:
        return None
    if found is None or found[2] < settings.closest_threshold:
        return None
    if pointing and pointing_opening(found[1]):
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


def premise_threshold(settings: ValidatorSettings, held: float) -> float:
    """The premise read's threshold for a question whose closest passage sentence holds the
    share `held` of its word stems: a sentence that restates the question, with the answer,
    reads high; one detail changed, it reads in the middle, where a question spread over
    passages (its closest sentence one hop) may read too. Off by default (0: the general
    threshold): on fresh runs it stopped answers holding their gold answer.

    >>> s = ValidatorSettings()
    >>> premise_threshold(s, 1.0), premise_threshold(s, 0.5)
    (0.4, 0.4)
    >>> s = ValidatorSettings(premise_restated_threshold=0.7)
    >>> premise_threshold(s, 1.0), premise_threshold(s, 0.5)
    (0.7, 0.4)
    """
    if settings.premise_restated_threshold and held >= settings.premise_restated_share:
        return settings.premise_restated_threshold
    return settings.premise_threshold


def _premise_note(
    outcome: Outcome, question: str, texts: Mapping[int, str], validator: Validator
) -> str | None:
    """Why `outcome` must abstain where the judge reads the passage sentence of `texts` closest
    to `question` and the answer's supported summary as not saying what the question takes for
    granted (closest.judged_premise, RAG_PREMISE_THRESHOLD); None where it need not."""
    premise = validator.premise
    if premise is None or asks_yes_no(question):
        # "Did the operations succeed?" of "they all failed" is answered "No": a yes/no
        # question may take for granted what its answer denies.
        return None
    said = answered_part(outcome.text, outcome.verdict)
    try:
        found = judged_premise(question, said, texts, validator.embedder, premise)
    except LLMError as exc:
        note = f"whether the sources say what the question takes for granted was not read: {exc}"
        outcome.notes.append(note)
        return None
    if found is None:
        return None
    threshold = premise_threshold(validator.settings, found.held)
    if found.read >= threshold:
        return None
    reason = (
        f"the judge read the passage sentence closest to it and the answer as not saying it, "
        f"{found.read:.2f} against the threshold {threshold:.2f}: {found.sentence}"
    )
    return FALSE_PREMISE.format(reason=reason)
