"""Aspects by one short model call (`RAG_ASPECTS=model`): the evidence passages, a title and
the sentence closest to the question each, grouped by the model under headings. The other way,
and the default, groups passage vectors (plan.group_aspects); docs/answers.md measures both.

A reply is one line per aspect, "Heading: 1, 4". Numbers outside the list, repeated, or past
an aspect's size are dropped; a reply with no usable line leaves the grouping to the vectors.

    >>> read_groups("Police policy: 1, 4\\nProtests: 2, 2, 9\\nnothing here", 5, 2)
    [('Police policy', [0, 3]), ('Protests', [1])]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer.context import compact
from rag.errors import LLMError
from rag.llm.model import ChatModel, Generation
from rag.llm.prompts import Prompt
from rag.types import Hit

_LINE = re.compile(r"^\s*(?:[-*\d.)]+\s+)?(?P<label>[^:\n]{2,80}?)\s*:\s*(?P<nums>[\d ,\[\]]+)$")
_WORDS_SHOWN = 25  # of each passage: enough to tell its subject, short enough for one call


def groups_gbnf(passages: int, most: int, size: int) -> str:
    """A grammar for the reply: 1..`most` lines, each a heading and 1..`size` numbers.

    >>> print(groups_gbnf(3, 2, 2))
    root ::= line{1,2}
    line ::= [A-Z] [^\\n:\\[\\]]{2,60} ": " num (", " num){0,1} "\\n"
    num ::= "3" | "2" | "1"
    """
    choices = " | ".join(f'"{n}"' for n in range(passages, 0, -1))
    return "\n".join(
        [
            f"root ::= line{{1,{most}}}",
            rf'line ::= [A-Z] [^\n:\[\]]{{2,60}} ": " num (", " num){{0,{size - 1}}} "\n"',
            f"num ::= {choices}",
        ]
    )


def read_groups(reply: str, passages: int, size: int) -> list[tuple[str, list[int]]]:
    """(label, rows) per usable line of `reply`; rows are 0-based, each used once."""
    used: set[int] = set()
    out: list[tuple[str, list[int]]] = []
    for line in reply.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        rows: list[int] = []
        for number in re.findall(r"\d+", match.group("nums")):
            row = int(number) - 1
            if 0 <= row < passages and row not in used and len(rows) < size:
                rows.append(row)
                used.add(row)
        if rows:
            out.append((match.group("label").strip("*# "), rows))
    return out


@dataclass
class AspectPlanner:
    """Groups evidence passages into aspects with one short model call."""

    model: ChatModel
    prompt: Prompt

    def group(
        self, question: str, hits: list[Hit], most: int, size: int
    ) -> tuple[list[tuple[str, list[int]]], Generation | None]:
        """The model's groups of `hits` (rows in their order, best first), and its reply's
        timing and tokens; no groups when the call fails or the reply has no usable line."""
        lines = [
            f"{n}. {h.title}: {compact(h.text, question, _WORDS_SHOWN)}"
            for n, h in enumerate(hits, start=1)
        ]
        messages = self.prompt.render(
            question=question, passages="\n".join(lines), most=most, size=size
        )
        grammar = groups_gbnf(len(hits), most, size) if self.model.follows_grammar else None
        try:
            generation = self.model.stream(messages, max_tokens=24 * most, grammar=grammar)
        except LLMError:
            return [], None
        read = read_groups(generation.text, len(hits), size)
        groups = [(label, sorted(rows)) for label, rows in read]
        # In the order of their best passage, as the vector grouping gives them.
        return sorted(groups[:most], key=lambda g: g[1][0]), generation
