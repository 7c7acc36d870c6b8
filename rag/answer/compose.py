"""Compose a fact-check: wide retrieval -> aspects (plan.py) -> one section per aspect, written
and checked before it is shown (section.py) -> the summary, bottom line, limits and follow-ups
from the sections that held (wrapup.py) -> an Answer.

Shown numbers are given by first use in the order sections are shown, so a section streamed
early keeps its numbers in the final answer.
"""

from __future__ import annotations

import time

from rag.answer.aspects import AspectPlanner
from rag.answer.assemble import build_answer, cite_shown
from rag.answer.citations import Renumberer
from rag.answer.plan import QuestionKind, kind_of, plan_aspects
from rag.answer.policy import Outcome, abstain, abstention, cut_down
from rag.answer.section import OnSection, SectionWriter, WrittenSection
from rag.answer.settle import DECLINED, as_made, checked_relevance
from rag.answer.shape import render_answer
from rag.answer.turn import OnProgress, Prompts, Turn
from rag.answer.wrapup import WrapUp, declined
from rag.config import AnswerSettings
from rag.llm.model import ChatModel, Generation, OnToken
from rag.retrieve.search import Searcher
from rag.text import cited_numbers
from rag.types import Answer, AnswerSections, AnswerStatus, CheckedSection, Hit, Section, Verdict
from rag.validate.validator import Validator


class Composer:
    """Writes fact-checks section by section with one chat model; nothing it shows is
    unchecked."""

    def __init__(
        self, settings: AnswerSettings, model: ChatModel, validator: Validator, prompts: Prompts
    ) -> None:
        self.settings = settings
        self.model = model
        self.validator = validator
        self.prompts = prompts
        self.sections = SectionWriter(settings, model, validator, prompts.section)
        self.wrapup = WrapUp(settings, model, validator, prompts.wrapup, prompts.verdict)
        self.planner = AspectPlanner(model, prompts.aspects)

    def answer(
        self,
        question: str,
        searcher: Searcher,
        k: int | None,
        on_token: OnToken | None,
        on_section: OnSection | None,
        say: OnProgress,
        load: float,
    ) -> Answer:
        """A fact-check written section by section, each checked before it is shown (to
        `on_section`, in the numbers the answer shows; `on_token` sees each section's draft as it
        is written, unchecked), then the parts composed from what held. `load` is reported as
        the answer's load time."""
        settings = self.settings
        started = time.perf_counter()
        say("retrieving passages")
        kind = kind_of(question)
        hits = searcher.search(question, k=max(settings.wide_k, k or settings.k))
        retrieved = time.perf_counter()
        vectors = self.validator.embedder.encode([h.text for h in hits])
        planning: list[Generation] = []

        def by_model(evidence: list[Hit]) -> list[tuple[str, list[int]]]:
            say("grouping the evidence into sections")
            groups, generation = self.planner.group(
                question, evidence, settings.max_sections, settings.section_passages
            )
            planning.extend([generation] if generation is not None else [])
            return groups

        aspects = plan_aspects(
            hits,
            vectors,
            kind,
            evidence=settings.evidence,
            per_source=settings.per_source,
            size=settings.section_passages,
            most=settings.max_sections,
            factoid_passages=k or settings.k,
            grouping=by_model if settings.aspects == "model" else None,
        )
        turn = Turn.start(question, [h for a in aspects for h in a.hits], "", self.prompts)
        for generation in planning:
            generation.count(turn.usage)
        planned = time.perf_counter()
        passages = turn.passages
        shown = Renumberer(valid=set(passages))
        tried: list[WrittenSection] = []  # every aspect's section, held or not
        shown_sections = 0
        first_section: float | None = None
        first_token: float | None = None
        first = 1
        for i, aspect in enumerate(aspects, start=1):
            say(f"writing section {i} of {len(aspects)} from {len(aspect.hits)} passage(s)")
            section = self.sections.write(
                question, aspect, first, passages, turn.run, on_token, turn.grams
            )
            first += len(aspect.hits)
            written = section.generation
            if first_token is None and written.first_token_s is not None:
                first_token = planned - started + written.first_token_s
            written.count(turn.usage)
            tried.append(section)
            if not section.kept:
                continue
            shown_sections += 1
            if first_section is None:
                first_section = time.perf_counter() - started
            if on_section is not None:
                text = shown.sub(section.text)
                cites = set(cited_numbers(text))
                on_section(
                    CheckedSection(
                        n=shown_sections,
                        heading=section.heading,
                        text=text,
                        citations=[c for c in cite_shown(text, shown, turn.hits) if c.n in cites],
                    )
                )
        sectioned = time.perf_counter()
        say("writing the summary and bottom line from the checked sections")
        outcome = self._settle(question, kind, turn, tried)
        done = time.perf_counter()
        timings = {
            "load": round(load, 3),
            "retrieve": round(retrieved - started, 4),
            "plan": round(planned - retrieved, 4),
            "first_token": round(first_token or 0.0, 3),
            "first_section": round(done - started if first_section is None else first_section, 3),
            "sections": round(sectioned - planned, 3),
            "wrapup": round(done - sectioned, 3),
            "total": round(done - started, 3),
        }
        prompts = self.prompts
        return build_answer(
            question,
            outcome.text,
            turn.hits,
            self.model.name,
            ",".join(p.id for p in (prompts.section, prompts.wrapup)),
            searcher.reader.version,
            timings,
            outcome,
            turn.usage | {"judge_calls": turn.run.judge_calls},
            [],
            renumberer=shown,
        )

    def _settle(
        self, question: str, kind: QuestionKind, turn: Turn, tried: list[WrittenSection]
    ) -> Outcome:
        """The composed answer as an Outcome: accepted when nothing was cut or moved, repaired
        when something was, abstained when nothing held or what held does not answer."""
        passages, run = turn.passages, turn.run
        written = [s for s in tried if s.kept]
        drafted = [c for s in tried for c in s.first_check]
        dropped = [c for s in tried for c in s.dropped]
        first = Verdict(accepted=not dropped, sentences=drafted)
        top = dict(list(turn.texts.items())[: self.settings.k])

        def nothing_held() -> Outcome:
            text = abstention(top, "")
            verdict = self.validator.check(text, passages, run)
            return Outcome(text, "abstained", verdict, dropped=dropped, first=first)

        if not written:
            return nothing_held()
        wrap = self.wrapup.write(question, kind, tried, passages, run, turn.usage)
        parts = AnswerSections(
            summary=" ".join(c.text for c in wrap.summary),
            sections=[Section(heading=s.heading, text=s.text) for s in written],
            bottom_line=wrap.bottom_line,
            limits="\n".join(wrap.limits),
            follow_ups=wrap.follow_ups,
        )
        text = render_answer(parts)
        # Checked once more as it will be shown: joined into one text, a sentence can split
        # otherwise than it did in its section (a stray label or marker), and what is shown
        # must pass as shown. Vectors are cached; only the judge's claims cost again.
        verdict = self.validator.check(text, passages, run)
        if not verdict.accepted:
            dropped += [c for c in verdict.sentences if not c.supported]
            text = cut_down(text, verdict)
            verdict = self.validator.check(text, passages, run)
            if not verdict.accepted or not verdict.sentences:
                return nothing_held()
        # The checks of what is shown, with the re-attributions that made them.
        checks = as_made([*wrap.summary, *(c for s in written for c in s.kept)], verdict)
        moved = any(c.reattributed for c in checks)
        status: AnswerStatus = "repaired" if dropped or moved else "accepted"
        outcome = Outcome(
            text, status, Verdict(accepted=True, sentences=checks), dropped=dropped, first=first
        )
        if declined(wrap.summary):
            return abstain(outcome, passages, top, self.validator, run, DECLINED)
        # The bottom line holds the finding most about the question: it is read too.
        return checked_relevance(
            outcome, question, passages, top, self.validator, run, ("summary", "bottom_line")
        )
