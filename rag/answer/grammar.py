"""The shapes the model writes in, as llama.cpp grammars (GBNF), each with the regular
expression of the strings it accepts (the tests hold one to the other).

A section: a heading line, then one to `most` sentences, each ending with citation markers
drawn only from the section's passage numbers. The wrap-up: what the sources cannot settle
(no citations) and follow-up questions.

A sentence holds no full stop but a decimal point, so a small model cannot run two sentences
under one citation; it may put its marker before or after the final full stop
("... officers. [1]" or "... officers [1].").

    >>> shape = SectionShape(numbers=(1, 2, 3))
    >>> shape.accepts("### Policy\\nOfficers do not escort agents [1]. Chiefs said so. [2][3]")
    True
    >>> shape.accepts("### Policy\\nOfficers do not escort agents [4].")
    False
    >>> shape.accepts("### Policy\\nOfficers do not escort agents. They said so [1].")
    False
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BODY_GBNF = r'([^.\n\[\]] | "." [0-9])+'
_BODY_RE = r"(?:[^.\n\[\]]|\.[0-9])+"
_HEADING_GBNF = r"[A-Z] [^\n\[\]#.]{3,70}"
_HEADING_RE = r"[A-Z][^\n\[\]#.]{3,70}"


@dataclass(frozen=True)
class Sentences:
    """1..`most` sentences citing only `numbers`, at most `markers` markers each."""

    numbers: tuple[int, ...]
    most: int = 4
    markers: int = 2

    def __post_init__(self) -> None:
        if not self.numbers or min(self.numbers) < 1:
            raise ValueError(f"sentences must cite passage numbers from 1, not {self.numbers}")

    def rules(self) -> list[str]:
        """GBNF rules: `sentences` and what it needs."""
        choices = " | ".join(f'"{n}"' for n in sorted(set(self.numbers), key=lambda n: -n))
        return [
            f'sentences ::= sentence (" " sentence){{0,{self.most - 1}}}',
            r'sentence ::= [A-Z0-9"] body end',
            r'end ::= ". " cite | " " cite "."',
            f"body ::= {_BODY_GBNF}",
            f'cite ::= "[" num "]" ("[" num "]"){{0,{self.markers - 1}}}',
            f"num ::= {choices}",
        ]

    def pattern(self) -> str:
        """The strings `sentences` accepts, as a regular expression."""
        num = "|".join(str(n) for n in sorted(set(self.numbers), key=lambda n: -n))
        cite = rf"\[(?:{num})\](?:\[(?:{num})\]){{0,{self.markers - 1}}}"
        sentence = rf'[A-Z0-9"]{_BODY_RE}(?:\. {cite}| {cite}\.)'
        return rf"{sentence}(?: {sentence}){{0,{self.most - 1}}}"


@dataclass(frozen=True)
class SectionShape:
    """One section: a heading, then sentences citing the section's own passages."""

    numbers: tuple[int, ...]
    most: int = 4

    def gbnf(self) -> str:
        """The grammar for llama.cpp's sampler."""
        sentences = Sentences(self.numbers, self.most)
        return "\n".join(
            [
                'root ::= "### " heading "\\n" sentences',
                f"heading ::= {_HEADING_GBNF}",
                *sentences.rules(),
            ]
        )

    def pattern(self) -> re.Pattern[str]:
        """The strings the grammar accepts, as a regular expression."""
        return re.compile(rf"### {_HEADING_RE}\n{Sentences(self.numbers, self.most).pattern()}")

    def accepts(self, text: str) -> bool:
        """Whether the grammar could have produced `text`."""
        return self.pattern().fullmatch(text) is not None


@dataclass(frozen=True)
class WrapupShape:
    """The wrap-up: one or two sentences of what the sources cannot settle (no citations),
    then one to three follow-up questions.

    >>> WrapupShape().accepts(
    ...     "## What the sources cannot settle\\nWhether the rule is kept.\\n"
    ...     "## Follow-up questions\\n- Who enforces the rule?\\n"
    ... )
    True
    """

    def gbnf(self) -> str:
        """The grammar for llama.cpp's sampler."""
        return "\n".join(
            [
                'root ::= "## What the sources cannot settle\\n" plain '
                '"\\n## Follow-up questions\\n" ("- " question "\\n"){1,3}',
                r'plain ::= [A-Z] [^\n\[\].]{10,240} "."',
                r"question ::= [A-Z] [^\n\[\]?]{5,150} " + '"?"',
            ]
        )

    def pattern(self) -> re.Pattern[str]:
        """The strings the grammar accepts, as a regular expression."""
        return re.compile(
            r"## What the sources cannot settle\n[A-Z][^\n\[\].]{10,240}\.\n"
            r"## Follow-up questions\n(?:- [A-Z][^\n\[\]?]{5,150}\?\n){1,3}"
        )

    def accepts(self, text: str) -> bool:
        """Whether the grammar could have produced `text`."""
        return self.pattern().fullmatch(text) is not None
