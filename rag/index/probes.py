"""Question probes: short questions made from indexed passages, to tune the approximate index on.

A build can measure the recall of its approximate index only on queries it has, and before
anyone asks, all it has are its passages. Passages used as queries flatter it: at 1M passages
an IVF index reached recall@10 0.961 for them at nprobe 128, while 600 HotpotQA and SQuAD
questions got 0.911 and needed nprobe 384 for 0.95. Questions made of a question word and three
words of a passage, in their order ("What police deny it?"), needed as many lists as those real
questions at every nprobe measured (0.910 / 0.940 / 0.954 / 0.965 at 128 / 256 / 384 / 512;
real: 0.911 / 0.938 / 0.952 / 0.960), where longer ones (five or eight words) or passages mixed
with noise were nearly as easy as the passages themselves (docs/scale.md, "1M passages";
CHANGELOG.md)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from rag.embed import Embedder
from rag.store.meta import MetaDB
from rag.store.samples import QuestionVectors
from rag.store.vectors import IdArray, Matrix

_QUESTION_WORDS = ("What", "Why", "How", "Who", "When", "Which", "Where")
_WORDS_PER_QUESTION = 3
_WORD = re.compile(r"[^\W\d_][\w'-]*")  # starts with a letter, any script


def probe_questions(texts: list[str], seed: int = 7) -> list[str]:
    """One short question per text: a question word (in turn) and three of the text's words
    chosen at random (seeded) and kept in their order; a text without words gives the
    question word alone."""
    rng = np.random.default_rng(seed)
    out = []
    for n, text in enumerate(texts):
        words = _WORD.findall(text)
        keep = min(_WORDS_PER_QUESTION, len(words))
        chosen = sorted(rng.choice(len(words), keep, replace=False)) if keep else []
        asked = _QUESTION_WORDS[n % len(_QUESTION_WORDS)]
        out.append(" ".join([asked, *(words[i] for i in chosen)]) + "?")
    return out


def question_vectors(meta_file: Path, embedder: Callable[[], Embedder]) -> QuestionVectors:
    """Encodes the probe questions of the passages with the given vector ids, reading their
    texts from the version's SQLite; the embedder is loaded only when a tuning asks."""

    def encode(ids: IdArray) -> Matrix:
        meta = MetaDB.open_readonly(meta_file)
        try:
            rows = meta.passages_by_vec_ids([int(i) for i in ids])
        finally:
            meta.close()
        return embedder().encode(probe_questions([rows[int(i)].passage.text for i in ids]))

    return encode
