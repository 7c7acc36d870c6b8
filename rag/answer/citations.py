"""Citations shown to the reader: the model's [n] markers renumbered in order of first use."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text import MARKER, cited_numbers, parse_marker


@dataclass(frozen=True)
class Renumbered:
    """Text with citations renumbered 1..n in order of first use."""

    text: str
    order: list[int]  # order[i] is the original number now shown as i + 1
    dropped: list[int]  # numbers the model cited that were not among the passages


class Renumberer:
    """Assigns shown numbers by first use; feed it a whole text or a stream of pieces."""

    def __init__(self, valid: set[int]) -> None:
        self.valid = valid
        self.mapping: dict[int, int] = {}
        self.dropped: list[int] = []
        self._pending = ""

    def _replace(self, match: re.Match[str]) -> str:
        shown: list[int] = []
        for n in parse_marker(match.group(1)):
            if n not in self.valid:
                if n not in self.dropped:
                    self.dropped.append(n)
                continue
            self.mapping.setdefault(n, len(self.mapping) + 1)
            if self.mapping[n] not in shown:
                shown.append(self.mapping[n])
        return " ".join(f"[{m}]" for m in shown)

    def sub(self, text: str) -> str:
        """Text with every marker renumbered (invented numbers removed)."""
        new = MARKER.sub(self._replace, text)
        # A marker that lost every number leaves a stray space before punctuation.
        new = re.sub(r"[ \t]+([.,;:!?])", r"\1", new)
        return re.sub(r"[ \t]{2,}", " ", new)

    def sub_known(self, text: str) -> str:
        """Text with the markers of numbers already shown renumbered, and any other number left
        as written (a reason quoting a number the model invented keeps it)."""

        def known(match: re.Match[str]) -> str:
            numbers = parse_marker(match.group(1))
            return "".join(f"[{self.mapping.get(n, n)}]" for n in numbers)

        return MARKER.sub(known, text)

    def feed(self, piece: str) -> str:
        """Renumber a streamed piece; a marker cut across pieces is held until it closes."""
        text = self._pending + piece
        cut = text.rfind("[")
        if cut != -1 and "]" not in text[cut:] and _OPEN_MARKER.fullmatch(text[cut:]):
            self._pending, text = text[cut:], text[:cut]
        else:
            self._pending = ""
        return self.sub(text)

    def flush(self) -> str:
        """Whatever a stream left pending."""
        text, self._pending = self._pending, ""
        return self.sub(text)

    @property
    def order(self) -> list[int]:
        """order[i] is the original number now shown as i + 1."""
        return sorted(self.mapping, key=self.mapping.__getitem__)


_OPEN_MARKER = re.compile(r"\[[\d\s,\u2013-]{0,20}")


def renumber(text: str, valid: set[int]) -> Renumbered:
    """Renumber valid citations by first use; invented numbers are removed, never passed on."""
    renumberer = Renumberer(valid)
    new = renumberer.sub(text)
    return Renumbered(text=new, order=renumberer.order, dropped=renumberer.dropped)


def sentences_citing(text: str) -> dict[int, list[str]]:
    """For each cited number, the sentences (or lines) of `text` that cite it."""
    out: dict[int, list[str]] = {}
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
        for n in cited_numbers(sentence):
            out.setdefault(n, []).append(sentence)
    return out
