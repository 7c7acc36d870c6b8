"""Sections: one aspect's passages -> a short prompt -> the model's section -> checked, with a
failing sentence re-attributed to the section's passage that holds it, else cut.

Passages carry one number across the whole answer (their position in the plan); the model
reads a section's passages numbered 1..m, and its markers are mapped back before checking.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from rag.answer.context import passage_block, shown_openings
from rag.answer.grammar import SectionShape
from rag.answer.leaks import DraftRelay, Grams, cut_leaks
from rag.answer.plan import Aspect
from rag.answer.reattribute import reattribute
from rag.answer.shape import drop_repeats
from rag.config import AnswerSettings
from rag.llm.model import ChatModel, Generation, OnToken
from rag.llm.prompts import Prompt
from rag.text import MARKER, parse_marker, strip_markers
from rag.types import CheckedSection, SentenceCheck
from rag.validate.framing import LISTING
from rag.validate.validator import CheckRun, Validator
from rag.validate.wording import stems

# A checked section as shown (its numbers are the answer's).
OnSection = Callable[[CheckedSection], None]

_MARK_AFTER_STOP = re.compile(r"([.!?])[ \t]*\n?[ \t]*((?:\[\d{1,3}\])+)")
_HEADING_LINE = re.compile(r"^\s*#{1,6}\s*(?:\d+[.)]\s*)?(.*?)\s*#*\s*$")


def markers_after(text: str) -> str:
    """Markers moved in front of the full stop they follow ("said so. [1]" -> "said so [1].").

    >>> markers_after("Officers do not escort agents. [1] They said so.\\n[2]")
    'Officers do not escort agents [1]. They said so [2].'
    """
    return _MARK_AFTER_STOP.sub(lambda m: f" {m.group(2)}{m.group(1)}", text)


def mapped(text: str, first: int) -> str:
    """A section's markers (1..m) as the answer's numbers (`first`..); one a number was
    not given maps outside the section too, and is refused as out of range.

    >>> mapped("A [1][3]. B [2, 3].", 5)
    'A [5][7]. B [6][7].'
    """

    def shift(match: re.Match[str]) -> str:
        return "".join(f"[{first + n - 1}]" for n in parse_marker(match.group(1)))

    return MARKER.sub(shift, text)


def split_section(text: str) -> tuple[str, str]:
    """(heading, body) of what the model wrote for a section; a later heading line is
    dropped and its sentences kept (a small model starts a new heading per passage).

    >>> split_section("### Policy\\nA b c d [1].\\n### 2. More\\nE f g h [2].")
    ('Policy', 'A b c d [1].\\nE f g h [2].')
    """
    heading = ""
    body: list[str] = []
    for line in text.strip().splitlines():
        match = _HEADING_LINE.match(line) if line.lstrip().startswith("#") else None
        if match:
            heading = heading or match.group(1).strip("*: ")
        elif line.strip():
            body.append(line.strip())
    return heading, "\n".join(body)


_LIST_NUMBER = re.compile(r"(?m)^[ \t]*\d{1,2}[.)][ \t]+(?=\S)")
_BOLD_LABEL = re.compile(r"\*\*[^*\n]{1,80}\*\*[ \t]*:[ \t]*")
_COPIED_GAP = re.compile(r"(?<=[.!?])[ \t]*\u2026[ \t]*(?=\[\d|$|[A-Z\"'])", re.M)
# A label the model lists its sentences with ("Fact 1: In 1914 ..."), at a sentence's start.
_FACT_LABEL = re.compile(
    rf"(?:^|(?<=[.!?]\s)|(?<=\]\s))[ \t]*{LISTING}[ \t]+\d{{1,2}}[ \t]*[:\u2013-][ \t]+",
    re.I | re.M,
)


def unlabeled(text: str) -> str:
    """`text` without the labels a draft lists its sentences with, at a sentence's start.

    >>> unlabeled("Fact 1: In 1914 it opened [1]. Point 2 - It closed [2].")
    'In 1914 it opened [1]. It closed [2].'
    """
    return _FACT_LABEL.sub("", text)


def unechoed(text: str, question: str) -> str:
    """`text` without what the model copied of its prompt's scaffolding: the question (with
    "Question:" or without) opening a line, a list number opening a line, a bold label
    ("**Regulation**: "), a label listing a sentence ("Fact 1: ") and the gap mark "…" after
    a copied sentence. A copied passage header is `unheaded`'s.

    >>> unechoed("Question: What was developed\\n1. Baran developed it [1].", "What was developed")
    'Baran developed it [1].'
    >>> unechoed("2. Report P-2626 followed. \\u2026 [1] It ended. \\u2026 Then", "What?")
    'Report P-2626 followed. [1] It ended. Then'
    >>> unechoed("Why did it end? **Money**: Funds ran out [1].", "Why did it end?")
    'Funds ran out [1].'
    >>> unechoed("Fact 1: In 1914 it opened [1]. Fact 2: It closed [2].", "When?")
    'In 1914 it opened [1]. It closed [2].'
    """
    asked = r"\s+".join(re.escape(w) for w in question.strip().rstrip("?").split())
    text = re.sub(rf"(?im)^[ \t]*question[ \t]*:[ \t]*(?:{asked})?[ \t]*\??[ \t]*\n?", "", text)
    if asked:  # the question itself opening a line, before what the model says of it
        text = re.sub(rf"(?im)^[ \t]*{asked}[ \t]*\?[ \t]*(?=\S)", "", text)
    text = unlabeled(_BOLD_LABEL.sub("", _LIST_NUMBER.sub("", text)))
    return _COPIED_GAP.sub(" ", text).strip()


def unheaded(text: str, headers: list[tuple[str, str | None, str]]) -> str:
    """`text` without a passage header the model copied at a sentence's start, as the passage
    block shows it: the title and date, a headline-long title (four words or more; a
    shorter one may be the name the sentence is about), or a title however short
    ("squad-0001") where the passage's own first words, as the block showed them (each
    header's third part), follow it.

    >>> head = [("Chief speaks on ICE", "2025-12-16", "")]
    >>> unheaded("Chief speaks on ICE (2025-12-16) At a press event, he spoke [1].", head)
    'At a press event, he spoke [1].'
    >>> unheaded("It rained. Chief speaks on ICE Officers stay out [2].", [(head[0][0], None, "")])
    'It rained. Officers stay out [2].'
    >>> unheaded("[1] Chief speaks on ICE (2025-12-16) He spoke [1].", head)
    'He spoke [1].'
    >>> g = [("Six hold 287(g) deals", "2026-01-08", "")]  # a title with brackets of its own
    >>> unheaded("It ended. Six hold 287(g) deals (2026-01-08) Not all do [2].", g)
    'It ended. Not all do [2].'
    >>> unheaded("Chief speaks (2025-12-16) He spoke [1].", head)  # words of the title kept
    'He spoke [1].'
    >>> unheaded("Chief spoke on ICE (2025-12-16) He spoke [1].", head)  # in another tense
    'He spoke [1].'
    >>> unheaded("The chief spoke on Friday (2025-12-16) He spoke [1].", head)
    'The chief spoke on Friday (2025-12-16) He spoke [1].'
    >>> unheaded("Sid Haig Jr. acted [1].", [("Sid Haig", None, "Sid Haig was")])
    'Sid Haig Jr. acted [1].'
    >>> unheaded("squad-0001 Baran developed it [1].", [("squad-0001", None, "Baran developed")])
    'Baran developed it [1].'
    """
    start = r"(?:^|(?<=[.!?]\s)|(?<=\n))(?:\[\d{1,3}\]\s*)?"  # the block's "[n] " too
    for title, date, opening in headers:
        heads = [f"{title} ({date})"] if date else []  # whole, whatever the title holds
        if len(title.split()) >= 4:
            heads.append(title)
        for head in heads:
            text = re.sub(start + re.escape(head) + r"\s+(?=[A-Z\"'])", "", text)
        if opening:
            follows = r"\s+".join(re.escape(w) for w in opening.split())
            text = re.sub(start + re.escape(title) + rf"\s+(?={follows})", "", text)
        if not date:
            continue
        # The title, or words of it the model kept, before the date; their stems, as the model
        # also changes a headline's tense ("publish" -> "published").
        words = stems(title)

        def cut(match: re.Match[str], words: frozenset[str] = words) -> str:
            kept = stems(match.group(1))
            return "" if kept and kept <= words else match.group(0)

        dated = start + r"([^.!?\n()\[\]]{1,200}?)\s*\(" + re.escape(date) + r"\)\s+(?=[A-Z\"'])"
        text = re.sub(dated, cut, text)
    return text


def complete_sentences(text: str) -> str:
    """`text` up to its last sentence end: a reply cut at the token limit loses its half
    sentence, never a whole one."""
    end = max(text.rfind(c) for c in ".!?]")
    return text[: end + 1] if end >= 0 else ""


@dataclass
class WrittenSection:
    """One aspect's section after checking: what held, what was cut, what the model wrote."""

    aspect: Aspect
    heading: str
    kept: list[SentenceCheck]  # supported sentences (re-attributed ones included), in order
    dropped: list[SentenceCheck]
    first_check: list[SentenceCheck]  # the draft's checks, before re-attribution and cuts
    generation: Generation  # its timing and token counts

    @property
    def text(self) -> str:
        """The kept sentences, as one paragraph (the answer's numbers)."""
        return " ".join(c.text for c in self.kept)


class SectionWriter:
    """Writes one aspect's section with the model and checks it."""

    def __init__(
        self, settings: AnswerSettings, model: ChatModel, validator: Validator, prompt: Prompt
    ) -> None:
        self.settings = settings
        self.model = model
        self.validator = validator
        self.prompt = prompt

    def _grammar(self, passages: int) -> str | None:
        if not (self.settings.section_grammar and self.model.follows_grammar):
            return None
        return SectionShape(numbers=tuple(range(1, passages + 1))).gbnf()

    def write(
        self,
        question: str,
        aspect: Aspect,
        first: int,
        passages: Mapping[int, str],
        run: CheckRun,
        on_token: OnToken | None = None,
        grams: Grams = frozenset(),
    ) -> WrittenSection:
        """The aspect's section, written from its passages (numbered `first`.. in the answer;
        `passages` holds what each of them vouches for) and checked: a failing sentence is
        re-attributed to the section's passage that holds it, else cut."""
        m = len(aspect.hits)
        block = passage_block(aspect.hits, question, self.settings.section_words)
        grammar = self._grammar(m)
        messages, start = self.prompt.prefilled(
            self.prompt.render(question=question, passages=block, n_passages=m),
            # The grammar writes the heading's start itself.
            self.model.continues_reply and grammar is None,
        )
        # The draft's markers are the section's own 1..m, not the answer's: none is shown.
        relay = DraftRelay(on_token, grams, valid=set()) if on_token is not None else None
        generation = self.model.stream(
            messages, on_token=relay, max_tokens=self.settings.section_tokens, grammar=grammar
        )
        if relay is not None:
            relay.close()
        raw, _ = cut_leaks(start + generation.text, grams)
        heading, body = split_section(raw)
        headers = zip(aspect.hits, shown_openings(block), strict=True)
        body = unheaded(
            unechoed(body, question), [(hit.title, hit.date, opening) for hit, opening in headers]
        )
        # A sentence said twice is shown once.
        body = drop_repeats(complete_sentences(markers_after(body)))
        body = mapped(" ".join(body.split("\n")), first)
        own = {n: passages[n] for n in range(first, first + m)}
        verdict = self.validator.check(body, own, run)
        kept: list[SentenceCheck] = []
        dropped: list[SentenceCheck] = []
        for check in verdict.sentences:
            if strip_markers(check.text).rstrip().endswith("?"):
                # A question asks; cited or not, it is no finding (the model echoes the user's).
                dropped.append(
                    check.model_copy(
                        update={
                            "supported": False,
                            "problem": "fragment",
                            "reason": "a question, not a finding",
                        }
                    )
                )
                continue
            moved = check if check.supported else reattribute(check, own, self.validator, run)
            if moved is not None:
                kept.append(moved)
            else:
                dropped.append(check)
        asked = stems(question)
        if not heading or heading.lower().startswith("question") or stems(heading) >= asked:
            heading = aspect.label  # a heading that repeats the question names no aspect
        return WrittenSection(
            aspect=aspect,
            heading=heading[:80],
            kept=kept,
            dropped=dropped,
            first_check=verdict.sentences,
            generation=generation,
        )
