r"""Leaks: the instructions given to the model never reach the user, even when a source tells the
model to print them. A run of GRAM words from the instructions that no passage contains is a
leak: such lines are cut from the answer, and such words held back from the streamed draft.
A shorter sentence the instructions hold whole (a line of the prompt's worked example, "Its
opening hours.") that no passage holds is cut from the answer too.

    >>> secret = secret_sentences(["Its opening hours.\n## Summary"], ["The mayor spoke."])
    >>> cut_sentences("## What the sources cannot settle\nIts opening hours.\n", secret)
    ('## What the sources cannot settle\n', 1)
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable

from rag.answer.citations import Renumberer
from rag.llm.model import OnToken
from rag.text import sentences, strip_markers

GRAM = 8  # words in a row; shorter runs are everyday phrases ("the sources do not say")
Grams = frozenset[tuple[str, ...]]

SENTENCE_WORDS = 3  # shorter sentences ("No.", "In short:") are everyday words
_WORD = re.compile(r"\s*\S+\s+")
_LIST_ITEM = re.compile(r"^(\s*(?:[-*\u2022]|\d+[.)])\s+)")


def _norm(word: str) -> str:
    return re.sub(r"\W+", "", word.lower())


def _words(text: str) -> list[str]:
    return [w for w in (_norm(t) for t in text.split()) if w]


def _grams(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + GRAM]) for i in range(len(words) - GRAM + 1)}


def secret_grams(instructions: Iterable[str], passages: Iterable[str]) -> Grams:
    """The word runs of the instructions that none of the passages (or the question) has."""
    secret: set[tuple[str, ...]] = set()
    for text in instructions:
        secret |= _grams(_words(text))
    for text in passages:
        secret -= _grams(_words(text))
    return frozenset(secret)


def cut_leaks(text: str, grams: Grams) -> tuple[str, int]:
    """`text` without the lines that repeat the instructions, and how many lines went."""
    kept, cut = [], 0
    for line in text.splitlines(keepends=True):
        if _grams(_words(line)) & grams:
            cut += 1
        else:
            kept.append(line)
    return "".join(kept), cut


def _sentence_key(sentence: str) -> str:
    return " ".join(_words(strip_markers(sentence)))


def secret_sentences(instructions: Iterable[str], passages: Iterable[str]) -> frozenset[str]:
    """The sentences of SENTENCE_WORDS words or more that the instructions hold (headings, the
    answer's format, aside) and none of the passages (or the question) does, normalized."""
    found: set[str] = set()
    for text in instructions:
        for line in text.splitlines():
            if line.lstrip().startswith("#"):
                continue
            for sentence in sentences(_LIST_ITEM.sub("", line)):
                key = _sentence_key(sentence)
                if len(key.split()) >= SENTENCE_WORDS:
                    found.add(key)
    held = [f" {' '.join(_words(text))} " for text in passages]
    return frozenset(key for key in found if not any(f" {key} " in text for text in held))


def cut_sentences(text: str, secret: frozenset[str]) -> tuple[str, int]:
    """`text` without the sentences the instructions hold (a line left empty goes too), and how
    many lines lost one."""
    kept, cut = [], 0
    for line in text.splitlines(keepends=True):
        end = line[len(line.rstrip("\r\n")) :]
        marker = _LIST_ITEM.match(line)
        prefix = marker.group(1) if marker else ""
        parts = sentences(line[len(prefix) :].rstrip("\r\n"))
        left = [p for p in parts if _sentence_key(p) not in secret]
        if len(left) == len(parts):
            kept.append(line)
            continue
        cut += 1
        if left:
            kept.append(prefix + " ".join(left) + end)
    return "".join(kept), cut


class LeakFilter:
    """Stream filter: a word is passed on once the GRAM-1 words after it have arrived and no run
    of GRAM words it is part of came from the instructions; leaked words are dropped."""

    def __init__(self, grams: Grams) -> None:
        self.grams = grams
        self.words: list[str] = []  # normalized words so far
        self.pending: deque[tuple[str, int]] = deque()  # (raw piece, its word's index) not out
        self.blocked: set[int] = set()
        self.partial = ""
        self.leaked = False

    def feed(self, text: str) -> str:
        """The part of the stream so far that is safe to show."""
        self.partial += text
        end = 0
        for match in _WORD.finditer(self.partial):
            if match.start() != end:
                break
            self._push(match.group(0))
            end = match.end()
        self.partial = self.partial[end:]
        return self._release(len(self.words) - GRAM + 1)

    def flush(self) -> str:
        """The rest, at the end of the stream."""
        if self.partial:
            self._push(self.partial)
            self.partial = ""
        return self._release(len(self.words) + 1)  # + 1: pieces before any word, too

    def _push(self, piece: str) -> None:
        word = _norm(piece)
        if word:
            self.words.append(word)
            last = tuple(self.words[-GRAM:])
            if len(last) == GRAM and last in self.grams:
                self.blocked.update(range(len(self.words) - GRAM, len(self.words)))
                self.leaked = True
        # Punctuation alone travels with the word before it.
        self.pending.append((piece, max(0, len(self.words) - 1)))

    def _release(self, upto: int) -> str:
        out = []
        while self.pending and self.pending[0][1] < upto:
            piece, index = self.pending.popleft()
            if index not in self.blocked:
                out.append(piece)
        return "".join(out)


class DraftRelay:
    """Passes a streamed draft on as it will be shown: markers renumbered by first use (numbers
    not in `valid` left out), words that repeat the instructions held back, and a prefilled
    start of the reply shown with the model's first token."""

    def __init__(self, on_token: OnToken, grams: Grams, valid: set[int], prefill: str = "") -> None:
        self.on_token = on_token
        self.numbers = Renumberer(valid=valid)
        self.unleaked = LeakFilter(grams)
        self.pending = prefill

    def __call__(self, token: str) -> None:
        if self.pending:
            self.on_token(self.unleaked.feed(self.numbers.feed(self.pending)))
            self.pending = ""
        self.on_token(self.unleaked.feed(self.numbers.feed(token)))

    def close(self) -> None:
        """What the renumbering and the leak filter still hold, at the end of the stream."""
        self.on_token(self.unleaked.feed(self.numbers.flush()) + self.unleaked.flush())
