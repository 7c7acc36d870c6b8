"""Context: hits -> the numbered passage block the model reads, and the quotes citations show."""

from __future__ import annotations

from rag.text import sentences, terms
from rag.types import Hit


def compact(text: str, question: str, max_words: int) -> str:
    """The passage's sentences closest to the question, in their order, within `max_words`.

    Gaps are marked with an ellipsis so the model does not read two sentences as adjacent.
    """
    parts = sentences(text)
    if len(text.split()) <= max_words or not parts:
        return " ".join(text.split())
    wanted = terms(question)
    ranked = sorted(range(len(parts)), key=lambda i: (-len(terms(parts[i]) & wanted), i))
    chosen: list[int] = []
    used = 0
    for i in ranked:
        n = len(parts[i].split())
        if used and used + n > max_words:
            continue
        chosen.append(i)
        used += n
        if used >= max_words:
            break
    out: list[str] = []
    previous = -1
    for i in sorted(chosen):
        if i != previous + 1:
            out.append("\u2026")
        out.append(" ".join(parts[i].split()))
        previous = i
    if previous < len(parts) - 1:
        out.append("\u2026")
    return " ".join(out)


def passage_block(hits: list[Hit], question: str, max_words: int) -> str:
    """Numbered passages: [n] title (date), then the compacted text."""
    blocks = []
    for n, hit in enumerate(hits, start=1):
        header = f"[{n}] {hit.title}" + (f" ({hit.date})" if hit.date else "")
        blocks.append(f"{header}\n{compact(hit.text, question, max_words)}")
    return "\n\n".join(blocks)


def shown_openings(block: str, words: int = 3) -> list[str]:
    """The first `words` words of each passage as `passage_block` showed it, in order.

    >>> shown_openings("[1] A title (2025-01-02)\\nThe text goes on.\\n\\n[2] B\\nMore here.")
    ['The text goes', 'More here.']
    """
    return [" ".join(part.partition("\n")[2].split()[:words]) for part in block.split("\n\n")]


def best_quote(passage: str, claims: list[str]) -> str:
    """The passage sentence sharing the most content words with the sentences that cite it."""
    parts = sentences(passage) or [passage]
    wanted = set().union(*(terms(c) for c in claims)) if claims else set()
    # Most shared words wins; among equals, the earliest sentence.
    best = max(range(len(parts)), key=lambda i: (len(terms(parts[i]) & wanted), -i))
    return parts[best]
