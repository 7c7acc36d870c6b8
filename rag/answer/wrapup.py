"""The wrap-up: the summary, bottom line (with a verdict for a yes/no question), what the sources
cannot settle and follow-up questions, composed from the checked sections."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from rag.answer.closest import nearest_first
from rag.answer.grammar import WrapupShape
from rag.answer.plan import QuestionKind
from rag.answer.policy import on_question
from rag.answer.section import WrittenSection
from rag.config import AnswerSettings
from rag.errors import LLMError
from rag.llm.model import ChatModel
from rag.llm.prompts import Prompt
from rag.text import MARKER, cited_numbers, strip_markers
from rag.types import SentenceCheck
from rag.validate.claims import heading_kind, says_no_answer, split_claims
from rag.validate.validator import CheckRun, Validator
from rag.validate.wording import numbers as numbers_in
from rag.validate.wording import stems

_LIMIT_WORDS = re.compile(r"\b(?:not|no|unclear|unknown|whether|cannot|nor)\b", re.I)
VERDICTS = ("Yes", "Mostly yes", "Mixed", "Mostly no", "No")
VERDICT_GBNF = "root ::= " + " | ".join(f'"{v}"' for v in VERDICTS)
NOT_SETTLED = "The sources do not settle it."
_SUMMARY_SENTENCES = 3
_FINDINGS_SHOWN = 6  # findings the verdict and the wrap-up read: the closest to the question


def verdict_of(reply: str) -> str | None:
    """The verdict a reply names ("Mostly no" -> "Mostly no."), or None.

    >>> verdict_of("Mostly no"), verdict_of(" yes."), verdict_of("Perhaps")
    ('Mostly no.', 'Yes.', None)
    """
    said = reply.strip().rstrip(".!").lower()
    return next((f"{v}." for v in VERDICTS if said == v.lower()), None)


@dataclass
class Wrapup:
    """What is composed from the checked sections."""

    summary: list[SentenceCheck]  # checked sentences of the sections
    bottom_line: str  # the verdict, if any, then the next checked sentence closest to the question
    limits: list[str]
    follow_ups: list[str]


class WrapUp:
    """Composes the parts that follow from the checked sections."""

    def __init__(
        self,
        settings: AnswerSettings,
        model: ChatModel,
        validator: Validator,
        wrapup: Prompt,
        verdict: Prompt,
    ) -> None:
        self.settings = settings
        self.model = model
        self.validator = validator
        self.wrapup_prompt = wrapup
        self.verdict_prompt = verdict

    def write(
        self,
        question: str,
        kind: QuestionKind,
        sections: list[WrittenSection],
        passages: Mapping[int, str],
        run: CheckRun,
        usage: dict[str, int],
    ) -> Wrapup:
        """Summary, bottom line (with a verdict for a yes/no question), limits and follow-ups,
        from the checked sections.

        The summary is the checked sentences closest to the question, the best of each
        section first, in the order of their sections: a small model's own summary mostly
        joins findings into claims no passage makes, and those are cut. The bottom line is
        the next closest, after the verdict the model reads from the findings. The model
        writes only what the findings leave open and the follow-up questions."""
        findings = [c for s in sections for c in s.kept]
        owners = [j for j, s in enumerate(sections) for _ in s.kept]
        order = self._closest(question, findings)
        best_of: dict[int, int] = {}
        for i in order:  # each section's best finding, best first
            best_of.setdefault(owners[i], i)
        chosen = sorted(list(best_of.values())[:_SUMMARY_SENTENCES])
        summary = [findings[i] for i in chosen]
        rest = [i for i in order if i not in chosen] or order
        best = findings[rest[0]]
        top = "\n".join(f"- {findings[i].text}" for i in order[:_FINDINGS_SHOWN])
        opening = ""
        if kind == "yes_no":
            on = any(on_question(c.text, question) for c in findings)
            opening = (self._verdict(question, top, usage) if on else None) or NOT_SETTLED
        limits = [
            f"{s.aspect.label}: what was written from it did not hold up against its passages, "
            "so it is left out."
            for s in sections
            if not s.kept
        ]
        cited = {n: passages[n] for c in findings for n in c.citations}
        for line in disagreements(findings):
            # It cites both sides, so it is checked like any cited sentence.
            if self.validator.check(line, cited, run).accepted:
                limits.append(line)
        reply = ""  # limits and follow-ups are the model's; the answer stands without them
        # A factoid's answer is its one short section: nothing more to wait for.
        if kind != "factoid":
            # A short reply in a fixed shape: a grammar costs little here.
            grammar = WrapupShape().gbnf() if self.model.follows_grammar else None
            with contextlib.suppress(LLMError):
                reply = self._complete(
                    self.wrapup_prompt,
                    usage,
                    grammar,
                    self.settings.section_tokens,
                    question=question,
                    findings=top,
                )
        parts = _parts(reply)
        said = [stems(strip_markers(c.text)) for c in findings]
        limits += [
            sentence
            for sentence in _sentences(parts.get("limits", ""))[:1]
            if _LIMIT_WORDS.search(sentence)
            and not cited_numbers(sentence)
            and not _restates(sentence, said)
        ]
        follow_ups = [
            re.sub(r"^\s*[-*\u2022\d.)]+\s*", "", q).strip()
            for q in parts.get("follow_ups", "").splitlines()
        ]
        follow_ups = [q for q in follow_ups if not _restates(q, said)]
        return Wrapup(
            summary=summary,
            bottom_line=f"{opening} {best.text}".strip(),
            limits=limits[:4],
            follow_ups=[q for q in follow_ups if q.endswith("?") and not MARKER.search(q)][:3],
        )

    def _closest(self, question: str, findings: list[SentenceCheck]) -> list[int]:
        """Positions of `findings`, closest to the question first, as for the closest passage
        sentence (closest.nearest_first): near in sense and saying the question's own words,
        so "officers do not cooperate with ICE" leads before a sentence on another agency's
        ICE agreement."""
        return nearest_first(
            question, [strip_markers(c.text) for c in findings], self.validator.embedder
        )

    def _complete(
        self,
        prompt: Prompt,
        usage: dict[str, int],
        grammar: str | None,
        max_tokens: int,
        **values: object,
    ) -> str:
        messages, start = prompt.prefilled(
            prompt.render(**values), self.model.continues_reply and grammar is None
        )
        generation = self.model.stream(messages, max_tokens=max_tokens, grammar=grammar)
        generation.count(usage)
        return start + generation.text

    def _verdict(self, question: str, findings: str, usage: dict[str, int]) -> str | None:
        """The verdict the model reads from the findings, or None if it names none."""
        # Held to its five words where the model follows a grammar: free, the model opens
        # with a bare "Yes" whatever the findings.
        grammar = VERDICT_GBNF if self.model.follows_grammar else None
        try:
            reply = self._complete(
                self.verdict_prompt, usage, grammar, 6, question=question, findings=findings
            )
        except LLMError:
            return None
        return verdict_of(reply)


def _restates(text: str, findings: list[frozenset[str]]) -> bool:
    """Whether `text` says (or asks) what one finding already says: most of its words are
    that finding's.

    >>> _restates("Did officers arrest protesters?", [stems("Officers arrested protesters [1].")])
    True
    """
    words = stems(text)
    return bool(words) and any(len(words & f) >= 0.75 * len(words) for f in findings)


def _sentences(text: str) -> list[str]:
    return [c.text for c in split_claims(text)]


def _parts(reply: str) -> dict[str, str]:
    """The wrap-up's parts by kind (summary, limits, follow_ups)."""
    out: dict[str, list[str]] = {}
    kind = "summary"
    for line in reply.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            kind = heading_kind(stripped.strip("#* :"))
            continue
        if stripped:
            out.setdefault(kind, []).append(stripped)
    return {k: "\n".join(v) for k, v in out.items()}


def disagreements(findings: list[SentenceCheck]) -> list[str]:
    """Pairs of checked sentences from different passages about the same thing (at least half
    of the shorter one's words shared) that give different numbers, said as such, citing both.

    >>> from rag.types import SentenceCheck as C
    >>> a = C(text="The crowd had 60 people at the church [1].", citations=[1], supported=True,
    ...       score=1, layer="fast")
    >>> b = C(text="The crowd at the church had 200 people [2].", citations=[2], supported=True,
    ...       score=1, layer="fast")
    >>> disagreements([a, b])[0][:60]
    'The sources give different figures: the crowd had 60 people '
    >>> disagreements([a, b])[0][60:]
    'at the church [1]; the crowd at the church had 200 people [2].'
    """
    out = []
    for i, a in enumerate(findings):
        for b in findings[i + 1 :]:
            if set(a.citations) & set(b.citations):
                continue
            plain_a, plain_b = strip_markers(a.text), strip_markers(b.text)
            na, nb = numbers_in(plain_a), numbers_in(plain_b)
            words_a, words_b = stems(plain_a) - na, stems(plain_b) - nb
            shared = len(words_a & words_b)
            if not (na and nb) or na & nb or shared * 2 < min(len(words_a), len(words_b)):
                continue
            first = a.text[0].lower() + a.text[1:].rstrip(".")
            second = b.text[0].lower() + b.text[1:]
            out.append(f"The sources give different figures: {first}; {second}")
    return out


def declined(summary: list[SentenceCheck]) -> bool:
    """Whether the summary says only that the sources do not answer."""
    return bool(summary) and all(says_no_answer(c.text) for c in summary)
