"""The answerer: a question -> a validated, cited Answer, composed section by section
(compose.py), or as one draft: retrieve -> draft -> check -> revise -> settle -> assemble.

Built once (by the CLI, the server or an evaluation) with what it needs: a searcher, a chat
model, a validator and the loaded prompts; then asked any number of times, from any thread.
What one question's work carries from step to step is a `Turn`.
"""

from __future__ import annotations

import time
from datetime import date
from functools import partial

from rag.answer.assemble import build_answer
from rag.answer.compose import Composer
from rag.answer.context import passage_block
from rag.answer.leaks import (
    DraftRelay,
    cut_leaks,
    cut_sentences,
)
from rag.answer.policy import Outcome, without_feedback
from rag.answer.question import clean_question
from rag.answer.section import OnSection, unlabeled
from rag.answer.settle import settle
from rag.answer.shape import drop_repeats
from rag.answer.turn import OnProgress, Prompts, Turn
from rag.config import AnswerSettings, Settings, load_settings
from rag.embed import Embedder
from rag.embed.encoder import load_embedder
from rag.errors import RagError
from rag.llm.model import ChatModel, Generation, Messages, ModelFactory, OnToken
from rag.llm.prompts import Prompt
from rag.llm.providers import open_model
from rag.retrieve.search import Searcher, open_searcher
from rag.types import Answer
from rag.validate.judge import Judge
from rag.validate.relevance import Contradiction, Premise, Relevance
from rag.validate.validator import Validator


def _quiet(message: str) -> None:
    return None


class Answerer:
    """Answers questions from an index with one chat model; nothing it shows is unchecked."""

    def __init__(
        self,
        settings: AnswerSettings,
        searcher: Searcher | None,
        model: ChatModel,
        validator: Validator,
        prompts: Prompts | None = None,
    ) -> None:
        """Loads the prompts and prepares the model (a missing key fails here; the embedded
        engine evaluates the fixed system prompt now, not at the first question)."""
        started = time.perf_counter()
        self.settings = settings
        self.searcher = searcher
        self.model = model
        self.validator = validator
        self.prompts = prompts or Prompts.load()
        if settings.compose == "sections":
            self.composer: Composer | None = Composer(settings, model, validator, self.prompts)
            # Each fixed system prompt is evaluated once (an engine that keeps state saves
            # it); the sections' own is evaluated last, as the first call needs it.
            first = [self.prompts.aspects] if settings.aspects == "model" else []
            for prompt in (*first, self.prompts.verdict, self.prompts.wrapup, self.prompts.section):
                model.prepare(system=prompt.fixed_system)
        else:
            self.composer = None
            model.prepare(system=self.prompts.answer.fixed_system)
        # Reported as the first answer's `load` time; later answers find everything loaded.
        self.load_s = time.perf_counter() - started

    def ask(
        self,
        question: str,
        k: int | None = None,
        on_token: OnToken | None = None,
        on_progress: OnProgress | None = None,
        searcher: Searcher | None = None,
        on_section: OnSection | None = None,
    ) -> Answer:
        """A validated answer: accepted, repaired or abstained. `on_token` sees what the model
        writes as it is written, unchecked (a whole draft, or each section's draft), its
        markers to no retrieved passage left out; `on_section` sees each section once it is
        checked, in the numbers the answer shows; `on_progress` hears what is happening;
        `searcher` overrides the one the answerer holds (a server switching to a newly
        published version)."""
        question = clean_question(question, self.settings.max_question_chars)
        searcher = searcher or self.searcher
        if searcher is None:
            raise RagError("this answerer holds no searcher; pass the one to answer from")
        say = on_progress or _quiet
        load, self.load_s = self.load_s, 0.0
        if self.composer is not None:
            return self.composer.answer(question, searcher, k, on_token, on_section, say, load)
        started = time.perf_counter()
        say("retrieving passages")
        turn = self.retrieve(question, searcher, k or self.settings.k)
        retrieved = time.perf_counter()
        say(f"writing a draft from {len(turn.hits)} passages with {self.model.name}")
        generation = self.draft(turn, on_token)
        generated = time.perf_counter()
        say("checking every sentence of the draft against its passages")
        outcome = self.check(turn, turn.prefill + generation.text, on_progress)
        done = time.perf_counter()
        timings = {
            "load": round(load, 3),
            "retrieve": round(retrieved - started, 4),
            "first_token": round(generation.first_token_s or 0.0, 3),
            "generate": round(generation.total_s, 3),
            "repair": round(turn.repairing, 3),
            "validate": round(done - generated - turn.repairing, 3),
            "total": round(done - started, 3),
        }
        return self.assemble(turn, generation, outcome, searcher.reader.version, timings)

    # -- steps -----------------------------------------------------------------------------
    def retrieve(self, question: str, searcher: Searcher, k: int) -> Turn:
        """The passages for the question, and what the model will be shown of them."""
        hits = searcher.search(question, k=k)
        block = passage_block(hits, question, self.settings.passage_words)
        return Turn.start(question, hits, block or "(no passages found)", self.prompts)

    def _messages(self, prompt: Prompt, turn: Turn, **values: object) -> tuple[Messages, str]:
        """The messages for `prompt` and the start of the reply they give."""
        messages = prompt.render(question=turn.question, passages=turn.block, **values)
        return prompt.prefilled(messages, self.model.continues_reply)

    def draft(self, turn: Turn, on_token: OnToken | None) -> Generation:
        """The model's first draft, streamed to `on_token` renumbered and with anything that
        repeats the instructions held back."""
        messages, turn.prefill = self._messages(
            self.prompts.answer,
            turn,
            today=date.today().isoformat(),
            n_passages=len(turn.hits),
        )
        valid = set(range(1, len(turn.hits) + 1))
        relay = (
            DraftRelay(on_token, turn.grams, valid, turn.prefill) if on_token is not None else None
        )
        # Without a listener nothing is shown, so a stream that breaks can still be retried.
        generation = self.model.stream(messages, on_token=relay)
        if relay is not None:
            relay.close()
            turn.leaked = relay.unleaked.leaked
        generation.count(turn.usage)
        return generation

    def revise(
        self, turn: Turn, on_progress: OnProgress | None, draft: str, problems: list[str]
    ) -> str:
        """The draft rewritten by the model from the list of what did not hold up."""
        if on_progress is not None:
            on_progress(f"{len(problems)} sentence(s) did not hold up; asking the model to repair")
        messages, start = self._messages(
            self.prompts.repair,
            turn,
            draft=draft.strip(),
            problems="\n".join(f"- {p}" for p in problems),
            n_passages=len(turn.hits),
        )
        fixed = self.model.stream(messages)
        turn.repairing += fixed.total_s
        fixed.count(turn.usage)
        return drop_repeats(without_feedback(start + fixed.text))

    def check(self, turn: Turn, draft: str, on_progress: OnProgress | None) -> Outcome:
        """Validate the draft; repair it, cut it down or abstain (settle.py)."""
        return settle(
            drop_repeats(unlabeled(draft)),
            turn.passages,
            self.validator,
            partial(self.revise, turn, on_progress),
            self.settings.repair_rounds,
            turn.run,
            turn.question,
            turn.texts,
        )

    def assemble(
        self,
        turn: Turn,
        generation: Generation,
        outcome: Outcome,
        index_version: int,
        timings: dict[str, float],
    ) -> Answer:
        """The Answer as shown: leaks cut, citations renumbered, notes on what went wrong."""
        final_text, leaked_lines = cut_leaks(outcome.text, turn.grams)
        final_text, example_lines = cut_sentences(final_text, turn.secret)
        leaked_lines += example_lines
        notes = []
        if leaked_lines or turn.leaked:
            notes.append(
                "the model repeated its instructions (a source may have asked it to); "
                f"{leaked_lines} line(s) of the answer and the repeated words of the draft "
                "were removed"
            )
        if generation.truncated:
            notes.append(
                "the draft ran far past the token limit (the provider ignored max_tokens) and "
                "was cut at its last sentence end before checking"
            )
        if turn.run.judge_failure is not None:
            notes.append(
                "claims the judge had to settle were refused unchecked: " + turn.run.judge_failure
            )
        prompts = self.prompts
        return build_answer(
            turn.question,
            final_text,
            turn.hits,
            self.model.name,
            prompts.answer.id + (f",{prompts.repair.id}" if outcome.rounds else ""),
            index_version,
            timings,
            outcome,
            turn.usage | {"judge_calls": turn.run.judge_calls},
            notes,
        )


def open_validator(
    settings: Settings,
    embedder: Embedder,
    models: ModelFactory = open_model,
    judge_model: ChatModel | None = None,
) -> Validator:
    """The configured validator: the judge (of claims, and of whether an answer answers) is
    RAG_JUDGE_MODEL (default RAG_LLM_MODEL), opened through `models` unless given, and none in
    fast mode."""
    if settings.validator.mode == "fast":
        return Validator(settings.validator, embedder)
    name = settings.validator.judge_model or settings.llm.model
    model = judge_model or models(name, settings)
    return Validator(
        settings.validator,
        embedder,
        Judge(model),
        relevance=Relevance(model),
        contradiction=Contradiction(model),
        premise=Premise(model),
    )


def open_answerer(
    settings: Settings,
    model: str | None = None,
    searcher: Searcher | None = None,
    embedder: Embedder | None = None,
    models: ModelFactory = open_model,
    on_progress: OnProgress | None = None,
) -> Answerer:
    """An answerer over the current index version with the model named `model` (default
    RAG_LLM_MODEL), opened through `models`; the encoder is `embedder` or the configured one.
    `on_progress` hears what is being loaded (seconds, on a first run more)."""
    say = on_progress or _quiet
    started = time.perf_counter()
    if searcher is None:
        say("opening the index and loading the embedding model")
        searcher = open_searcher(settings, embedder, models=models)
    name = model or settings.llm.model
    say(f"loading the answering model {name} (a first run prepares it once: seconds more)")
    chat = models(name, settings)
    judge_name = settings.validator.judge_model or settings.llm.model
    validator = open_validator(
        settings,
        searcher.embedder or embedder or load_embedder(settings),
        models,
        chat if judge_name == name else None,
    )
    answerer = Answerer(settings.answer, searcher, chat, validator)
    answerer.load_s = time.perf_counter() - started  # the searcher and encoder too
    return answerer


def ask(
    question: str,
    settings: Settings | None = None,
    k: int | None = None,
    model: str | None = None,
    on_token: OnToken | None = None,
    on_progress: OnProgress | None = None,
) -> Answer:
    """Answer `question` from the index with numbered citations, validated (the Python API;
    build an `Answerer` with `open_answerer` to ask many)."""
    settings = settings or load_settings()
    clean_question(question, settings.answer.max_question_chars)  # refused before any loading
    answerer = open_answerer(settings, model)
    try:
        return answerer.ask(question, k=k, on_token=on_token, on_progress=on_progress)
    finally:
        if answerer.searcher is not None:
            answerer.searcher.reader.close()
