"""What one question's work carries from step to step (a `Turn`), and the prompts it is
written with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rag.answer.leaks import Grams, secret_grams, secret_sentences
from rag.llm.prompts import Prompt, load_prompt
from rag.text import cited_text
from rag.types import Hit
from rag.validate.validator import CheckRun

OnProgress = Callable[[str], None]
NAMES = ("answer", "repair", "section", "wrapup", "verdict", "aspects")


@dataclass(frozen=True)
class Prompts:
    """The prompts an answer is written with, loaded (and checked) once."""

    answer: Prompt
    repair: Prompt
    section: Prompt
    wrapup: Prompt
    verdict: Prompt
    aspects: Prompt

    @classmethod
    def load(cls) -> Prompts:
        """The packaged prompts."""
        return cls(*(load_prompt(n) for n in NAMES))

    def instructions(self) -> list[str]:
        """Every system prompt: what a source may tell the model to print, never shown."""
        return [getattr(self, name).system for name in NAMES]


@dataclass
class Turn:
    """One question's work in progress."""

    question: str
    hits: list[Hit]
    block: str  # the numbered passages as the model reads them
    grams: Grams  # word runs of the instructions that must never be shown
    secret: frozenset[str]  # whole sentences of the instructions (their worked example), likewise
    prefill: str = ""  # the start of the reply written for the model, if it continues one
    usage: dict[str, int] = field(
        default_factory=lambda: {"prompt_tokens": 0, "completion_tokens": 0}
    )
    run: CheckRun = field(default_factory=CheckRun)
    repairing: float = 0.0  # seconds spent on rewrites
    leaked: bool = False  # the streamed draft repeated the instructions (held back)

    @property
    def passages(self) -> dict[int, str]:
        """What each passage vouches for (title, date, text) by the number the model cites it
        with."""
        return {n: cited_text(h.title, h.text, h.date) for n, h in enumerate(self.hits, start=1)}

    @property
    def texts(self) -> dict[int, str]:
        """The passages' text alone, by number."""
        return {n: hit.text for n, hit in enumerate(self.hits, start=1)}

    @classmethod
    def start(cls, question: str, hits: list[Hit], block: str, prompts: Prompts) -> Turn:
        """A turn over `hits`, knowing what of the instructions must never be shown (what a
        source may tell the model to print)."""
        instructions = prompts.instructions()
        said = [question, *(h.text for h in hits)]
        return cls(
            question,
            hits,
            block,
            secret_grams(instructions, said),
            secret_sentences(instructions, said),
        )
