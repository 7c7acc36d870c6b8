"""Reuse: a vector per passage text, copied from the last version where the same text was
embedded, encoded (a block at a time) where not."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rag.embed import Embedder, embed_in_blocks
from rag.progress import Reporter
from rag.store import IndexReader
from rag.types import PassageCounts


def vectors_for(
    texts: dict[str, str],
    base: IndexReader | None,
    counts: PassageCounts,
    embedder: Callable[[], Embedder],
    reporter: Reporter,
) -> dict[str, np.ndarray]:
    """A vector per embed hash of `texts`: reused from `base` where the text is the same, else
    encoded by `embedder()` (asked only when something must be encoded); `counts` gets how
    many were reused and embedded."""
    out: dict[str, np.ndarray] = {}
    if base is not None and texts:
        reusable = base.meta.vec_ids_by_embed_hash(texts)
        if reusable:
            hashes = list(reusable)
            for digest, row in zip(
                hashes, base.vectors.reconstruct([reusable[h] for h in hashes]), strict=True
            ):
                out[digest] = row
    todo = [h for h in texts if h not in out]
    counts.reused = len(texts) - len(todo)
    if todo:
        encoded = embed_in_blocks(embedder(), [texts[h] for h in todo], reporter)
        out.update(zip(todo, encoded, strict=True))
    counts.embedded = len(todo)
    return out
