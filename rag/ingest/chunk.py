"""Chunk: a source's text -> sentence-aligned passages with offsets and stable ids."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.config import ChunkSettings
from rag.text import split_sentences, titled
from rag.types import Passage, Source, sha256_hex

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class ChunkSpec:
    """Passage sizes in words; recorded in the index manifest."""

    target_words: int = 160
    max_words: int = 220
    min_words: int = 60
    overlap_words: int = 30

    @classmethod
    def of(cls, settings: ChunkSettings) -> ChunkSpec:
        """The sizes the settings ask for."""
        return cls(
            settings.target_words, settings.max_words, settings.min_words, settings.overlap_words
        )


def _cut_long(text: str, span: tuple[int, int], size: int) -> list[tuple[int, int]]:
    """A sentence longer than the ceiling, cut at word boundaries every `size` words."""
    words = [
        (m.start() + span[0], m.end() + span[0]) for m in _WORD.finditer(text[span[0] : span[1]])
    ]
    return [
        (words[i][0], words[min(i + size, len(words)) - 1][1]) for i in range(0, len(words), size)
    ]


def chunk_spans(text: str, spec: ChunkSpec) -> list[tuple[int, int]]:
    """Passage spans: whole sentences up to the target, a few sentences of overlap between them."""
    units: list[tuple[int, int]] = []
    for span in split_sentences(text):
        n_words = len(_WORD.findall(text[span[0] : span[1]]))
        units.extend(
            _cut_long(text, span, spec.target_words) if n_words > spec.max_words else [span]
        )
    counts = [len(_WORD.findall(text[s:e])) for s, e in units]
    passages: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j, words = i, 0
        while j < len(units) and (j == i or words + counts[j] <= spec.max_words):
            words += counts[j]
            j += 1
            if words >= spec.target_words:
                break
        rest = sum(counts[j:])
        if 0 < rest < spec.min_words and words + rest <= spec.max_words:
            j = len(units)  # a short tail joins this passage rather than standing alone
        passages.append((units[i][0], units[j - 1][1]))
        if j >= len(units):
            break
        k, overlap = j, 0
        while k - 1 > i and overlap + counts[k - 1] <= spec.overlap_words:
            k -= 1
            overlap += counts[k]
        i = k
    return passages


def passage_id(source_id: str, start: int, text: str) -> str:
    """Stable id: the same text at the same place of the same source keeps its id."""
    return sha256_hex(source_id, str(start), sha256_hex(text))[:16]


def vector_id(pid: str) -> int:
    """FAISS int64 id derived from the passage id (60 bits, so always positive)."""
    return int(pid[:15], 16)


def chunk_source(source: Source, spec: ChunkSpec) -> list[Passage]:
    """The passages of one source, in order."""
    return [
        Passage(
            id=passage_id(source.id, start, source.text[start:end]),
            source_id=source.id,
            ordinal=n,
            start=start,
            end=end,
            text=source.text[start:end],
            title=source.title,
        )
        for n, (start, end) in enumerate(chunk_spans(source.text, spec))
    ]


def embed_text(passage: Passage, with_title: bool) -> str:
    """What the encoder and BM25 see for a passage."""
    return titled(passage.title, passage.text, with_title)
