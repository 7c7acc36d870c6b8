"""The validator: an answer and the passages it was written from -> a Verdict per claim.

Layers, cheapest first: structure (every [n] names a given passage, every factual sentence cites,
quotes are verbatim), the fast scored check (support.py), then for what the fast check cannot
settle an LLM judge (judge.py). Thresholds come from settings, calibrated in docs/validator.md.
One validator serves many answers and threads; what one answer's checking went through (judge
calls, a judge that failed) is kept in its `CheckRun`."""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from rag.config import ValidatorSettings
from rag.embed import Embedder
from rag.errors import LLMError
from rag.text import markers, sentences, strip_markers
from rag.types import SentenceCheck, Verdict
from rag.validate.claims import Claim, is_fragment, split_claims
from rag.validate.injection import without_instructions
from rag.validate.support import Evidence, measure, similarity
from rag.validate.wording import detokenized

# claim, cited text -> probability that the text supports the claim (judge.py's Judge)
JudgeFn = Callable[[str, str], float]
# question, answer -> probability that the answer answers it (relevance.py's Relevance)
RelevanceFn = Callable[[str, str], float]

# Quotes pair up in order; only those of three words or more are checked.
_QUOTE = re.compile(r"\"([^\"]*)\"|\u201c([^\u201d]*)\u201d")
_QUOTE_WORDS = 3
_JUDGE_SENTENCES = 3  # cited sentences per passage shown to the judge


def _normal(text: str) -> str:
    return " ".join(detokenized(re.sub(r"[\u2018\u2019]", "'", text)).lower().split())


@dataclass
class CheckRun:
    """What checking one answer (its draft, repairs and cuts) went through."""

    judge_calls: int = 0
    # Set once the judge fails (after its retries): the claims it should have settled are then
    # refused, never accepted unchecked, and no later check of this run asks it again.
    judge_failure: str | None = None


class Validator:
    """Checks answers against numbered passages; build one and reuse it for many answers, from
    any thread (sentence vectors are cached)."""

    def __init__(
        self,
        settings: ValidatorSettings,
        embedder: Embedder,
        judge: JudgeFn | None = None,
        cache_size: int = 20000,
        relevance: RelevanceFn | None = None,
        contradiction: JudgeFn | None = None,
        premise: RelevanceFn | None = None,
    ) -> None:
        """`relevance` reads a whole answer against its question (the answer policy asks it);
        `contradiction` reads whether a passage says the opposite of a claim (`rag check` asks
        it); `premise` reads whether the passages say what a question takes for granted (the
        policy asks it). Like the judge, none is used in fast mode."""
        self.settings = settings
        self.embedder = embedder
        self.judge = judge if settings.mode != "fast" else None
        on = settings.mode != "fast" and settings.relevance_threshold > 0
        self.relevance = relevance if on else None
        self.contradiction = contradiction if settings.mode != "fast" else None
        reads = settings.mode != "fast" and settings.premise_threshold > 0
        self.premise = premise if reads else None
        self._vectors: dict[str, np.ndarray] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._cuts = self._cuts_of(settings)

    def _cuts_of(self, settings: ValidatorSettings) -> tuple[float, ...]:
        """Scores where a verdict changes: the embedding is computed only if it could cross one."""
        if self.judge is None or settings.mode == "strict":
            return (settings.support_threshold,)
        return (settings.support_reject, settings.support_accept)

    def reading(self, support_reject: float) -> Validator:
        """This validator with claims the fast layer scores from `support_reject` up sent to the
        judge (judge, embedder and vector cache shared). `rag check` reads people's own wording,
        which says a passage's facts in other words far more than a model's draft does."""
        twin = copy.copy(self)
        low = min(support_reject, self.settings.support_accept)
        twin.settings = self.settings.model_copy(update={"support_reject": low})
        twin._cuts = twin._cuts_of(twin.settings)
        return twin

    def _encode(self, texts: list[str]) -> dict[str, np.ndarray]:
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        todo = list(dict.fromkeys(t for t in texts if t not in known))
        if todo:
            encoded = self.embedder.encode(todo)
            with self._lock:
                if len(self._vectors) + len(todo) > self._cache_size:
                    self._vectors.clear()
                for text, vector in zip(todo, encoded, strict=True):
                    self._vectors[text] = vector
                    known[text] = vector
        return {t: known[t] for t in texts}

    def check(
        self, answer: str, passages: Mapping[int, str], run: CheckRun | None = None
    ) -> Verdict:
        """The verdict on `answer`, whose [n] markers point into `passages` (n -> text)."""
        return self.check_many([(answer, passages)], run)[0]

    def check_many(
        self, answers: Sequence[tuple[str, Mapping[int, str]]], run: CheckRun | None = None
    ) -> list[Verdict]:
        """Verdicts on many answers; their embeddings go through the encoder in one batch.
        `run` carries judge calls and a judge failure across the checks of one answer."""
        run = run if run is not None else CheckRun()
        # Per claim: its structural failure, else the lexical evidence for it.
        found: list[list[tuple[Claim, SentenceCheck | Evidence]]] = []
        # A source sentence that instructs the model is no evidence for what it asks to be said.
        answers = [
            (answer, {n: without_instructions(text) for n, text in passages.items()})
            for answer, passages in answers
        ]
        for answer, passages in answers:
            rows: list[tuple[Claim, SentenceCheck | Evidence]] = []
            for claim in split_claims(answer):
                if claim.needs_citation or claim.citations:
                    cited = [passages[n] for n in claim.citations if n in passages]
                    failure = self._structure(claim, passages)
                    rows.append((claim, failure or measure(strip_markers(claim.text), cited)))
            found.append(rows)
        # Only claims whose verdict the embedding can still change are embedded.
        need = [
            e
            for rows in found
            for _, e in rows
            if isinstance(e, Evidence) and e.needs_similarity(self._cuts)
        ]
        texts = [e.claim for e in need]
        vectors = self._encode(texts + [w for e in need for w in e.closest])
        verdicts = []
        for (_, passages), rows in zip(answers, found, strict=True):
            checks = []
            for claim, evidence in rows:
                if isinstance(evidence, SentenceCheck):
                    checks.append(evidence)
                    continue
                if evidence.needs_similarity(self._cuts):
                    window_rows = np.array([vectors[w] for w in evidence.closest])
                    sim = similarity(vectors[evidence.claim], window_rows)
                    evidence = replace(evidence, similarity=sim)
                checks.append(self._support(claim, evidence, passages, run))
            problems = [
                f"sentence {i}: {c.reason}"
                for i, c in enumerate(checks, start=1)
                if not c.supported
            ]
            verdicts.append(Verdict(accepted=not problems, problems=problems, sentences=checks))
        return verdicts

    def _structure(self, claim: Claim, passages: Mapping[int, str]) -> SentenceCheck | None:
        """The structural failure of a claim, if any: no citation, a passage number not given,
        a quote not in the cited text."""
        if not claim.citations:
            return _check(
                claim, False, 0.0, "structure", "uncited", "a factual sentence with no citation"
            )
        unknown = [n for n in claim.citations if n not in passages]
        if unknown:
            given = f"1-{max(passages)}" if passages else "none"
            marks = ", ".join(f"[{n}]" for n in unknown)
            return _check(
                claim,
                False,
                0.0,
                "structure",
                "out_of_range",
                f"cites {marks}; the passages given were {given}",
            )
        if is_fragment(claim.text):
            reason = f"too short to state anything {markers(claim.citations)} could support"
            return _check(claim, False, 0.0, "structure", "fragment", reason)
        cited = [passages[n] for n in claim.citations]
        for match in _QUOTE.finditer(claim.text):
            quote = match.group(1) or match.group(2) or ""
            if len(quote.split()) >= _QUOTE_WORDS and not any(
                _normal(quote) in _normal(text) for text in cited
            ):
                reason = f'the quote "{quote}" is not in the cited text'
                return _check(claim, False, 0.0, "structure", "quote", reason)
        return None

    def _support(
        self, claim: Claim, evidence: Evidence, passages: Mapping[int, str], run: CheckRun
    ) -> SentenceCheck:
        """The fast layer's verdict, or the judge's where the fast score is in between."""
        marks = markers(claim.citations)
        if evidence.missing_numbers:
            reason = f"{', '.join(evidence.missing_numbers)} not in {marks}"
            return _check(claim, False, 0.0, "fast", "number", reason)
        score = evidence.score
        settings = self.settings
        if evidence.flags:
            # A name not in the cited text, a dropped qualifier or a number away from the
            # claim's words is evidence of a changed claim; a small judge reads past them.
            return _check(
                claim, False, score, "fast", "unsupported", _explain(evidence, marks, False)
            )
        if self.judge is None:
            ok = score >= settings.support_threshold
            return _check(claim, ok, score, "fast", "unsupported", _explain(evidence, marks, ok))
        if settings.mode == "strict":
            low, high = settings.support_threshold, 2.0  # the judge confirms every pass
        else:
            low, high = settings.support_reject, settings.support_accept
        if not low <= score < high:
            ok = score >= high
            return _check(claim, ok, score, "fast", "unsupported", _explain(evidence, marks, ok))
        if run.judge_failure is None:
            run.judge_calls += 1
            cited = [passages[n] for n in claim.citations]
            try:
                probability = self.judge(evidence.claim, self._judge_text(evidence.claim, cited))
            except LLMError as exc:
                # Retried already; asking again for every claim would only multiply the wait.
                run.judge_failure = str(exc)
        if run.judge_failure is not None:
            reason = f"not checked, the judge failed ({run.judge_failure}; fast score {score:.2f})"
            return _check(claim, False, score, "judge", "unsupported", reason)
        ok = probability >= settings.judge_threshold
        reason = f"judge: P(supported) = {probability:.2f} (fast score {score:.2f})"
        return _check(claim, ok, probability, "judge", "unsupported", reason)

    def contradicts(self, claim: str, passage: str, run: CheckRun) -> float | None:
        """P(the passage says something `claim` cannot be true with), read from the passage's
        sentences closest to the claim; None without a judge or once the judge has failed."""
        if self.contradiction is None or run.judge_failure is not None:
            return None
        run.judge_calls += 1
        try:
            return self.contradiction(claim, self._judge_text(claim, [passage]))
        except LLMError as exc:
            run.judge_failure = str(exc)
            return None

    def _judge_text(self, text: str, cited: list[str]) -> str:
        """The cited passages cut to the sentences closest to the claim (`text`, markers
        stripped), in their order."""
        claim_vector = self._encode([text])[text]
        blocks = []
        # Labelled by position, not by the cited number: the shown answer is renumbered, and
        # the judge must read the same prompt for it as for the draft (rag validate agrees).
        for n, text in enumerate(cited, start=1):
            singles = sentences(text) or [text]
            if len(singles) > _JUDGE_SENTENCES:
                vectors = self._encode(singles)
                scores = np.array([vectors[s] for s in singles]) @ claim_vector
                keep = sorted(np.argsort(-scores)[:_JUDGE_SENTENCES].tolist())
                singles = [singles[i] for i in keep]
            blocks.append(f"[{n}] " + " ".join(singles))
        return "\n".join(blocks)


def _check(
    claim: Claim, ok: bool, score: float, layer: str, problem: str, reason: str
) -> SentenceCheck:
    return SentenceCheck.model_validate(
        {
            "text": claim.text,
            "citations": claim.citations,
            "supported": ok,
            "score": round(score, 4),
            "layer": layer,
            "problem": "" if ok else problem,
            "reason": reason,
        }
    )


def _explain(evidence: Evidence, marks: str, ok: bool) -> str:
    cosine = "" if evidence.similarity is None else f", similarity {evidence.similarity:.2f}"
    parts = [
        f"fast score {evidence.score:.2f}: {evidence.coverage:.0%} of its words in {marks}" + cosine
    ]
    if evidence.unmatched and not ok:
        parts.append(f"words not in {marks}: {', '.join(evidence.unmatched)}")
    if evidence.missing_names:
        parts.append(f"names not in {marks}: {', '.join(evidence.missing_names)}")
    if evidence.distant_numbers:
        parts.append(f"{', '.join(evidence.distant_numbers)} not near its words in {marks}")
    if evidence.dropped:
        parts.append(f"drops {', '.join(evidence.dropped)!r} from the cited sentence")
    if evidence.unjoined:
        parts.append(f"each of {marks} says part of it and they share none of its words")
    for name, other in evidence.crossed:
        parts.append(f"joins {name!r} and {other!r}, which none of {marks} names together")
    for said, cited in evidence.changed:
        parts.append(
            f"says {said!r} where {marks} says {cited!r}" if cited else f"adds {said!r} to {marks}"
        )
    return ("supported; " if ok else "") + "; ".join(parts)
