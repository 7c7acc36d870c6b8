"""Equal-length batches: the job's order, the vectors, the padding, and the fallback."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from helpers.fakes import HashEmbedder

from rag.embed import embed_in_blocks
from rag.embed.batches import encode_by_length, length_order, matches_encode
from rag.embed.encoder import SentenceTransformerEmbedder
from rag.errors import RagError
from rag.progress import Silent


class Planned(HashEmbedder):
    """The fake encoder with a fixed plan."""

    def __init__(self, order: list[int]) -> None:
        super().__init__()
        self.order = order

    def plan(self, texts: list[str]) -> list[int]:
        return self.order


def test_blocks_follow_the_plan_and_vectors_land_on_their_texts() -> None:
    texts = [f"text {i} " + "word " * (i % 7) for i in range(300)]
    embedder = HashEmbedder()  # plans the longest texts first
    vectors = embed_in_blocks(embedder, texts, Silent())
    assert embedder.planned == [300]
    assert embedder.calls == [128, 128, 44]
    assert np.array_equal(vectors, HashEmbedder().encode(texts))


@pytest.mark.parametrize(
    "order",
    [[0, 0, 1], [0, 1], [0, 1, 2, 3], [1, 2, 3]],
    ids=["repeated", "short", "long", "outside"],
)
def test_a_plan_that_is_not_each_text_once_is_an_error(order: list[int]) -> None:
    with pytest.raises(RagError, match="each of the 3 texts once"):
        embed_in_blocks(Planned(order), ["a", "b", "c"], Silent())


@pytest.fixture(scope="module")
def st_model() -> Any:
    return SentenceTransformerEmbedder("all-MiniLM-L6-v2")._model


@pytest.mark.slow
@pytest.mark.parametrize(
    ("texts", "order"),
    [
        # [CLS] + word pieces + [SEP]: 6, 3, 4, 3 tokens; ties keep their order
        (["one two three four", "one", "one two", "two"], [1, 3, 2, 0]),
        (["", "a"], [0, 1]),
        (["word " * 600, "word " * 300, "short"], [2, 0, 1]),  # both truncated to 256
    ],
)
def test_a_job_is_ordered_by_token_count(st_model: Any, texts: list[str], order: list[int]) -> None:
    assert length_order(st_model, texts) == order


@pytest.mark.slow
def test_vectors_equal_sentence_transformers_encode(st_model: Any) -> None:
    texts = [
        "The Eiffel Tower was completed in 1889.",
        "",
        "Über CAFÉ naïve — mixed Case and ünïcode",
        "The Eiffel Tower was completed in 1889.",
        "word " * 400,
        *[f"passage {i} " + "about rivers " * i for i in range(20)],
    ]
    want = st_model.encode(texts, batch_size=8, normalize_embeddings=True)
    got = encode_by_length(st_model, texts, batch_size=8)
    assert got.dtype == np.float32 and got.shape == (len(texts), 384)
    assert float(np.abs(got - want).max()) < 1e-5


@pytest.mark.slow
def test_batches_of_equal_token_count_carry_no_padding(st_model: Any) -> None:
    short = [f"river {i}" for i in range(8)]  # 4 tokens each
    long = [f"the river number {i} ran dry" for i in range(8)]  # 8 tokens each
    texts = [t for pair in zip(long, short, strict=True) for t in pair]  # interleaved
    masks: list[Any] = []
    hook = st_model[0].register_forward_pre_hook(
        lambda _module, args: masks.append(args[0]["attention_mask"].clone())
    )
    try:
        encode_by_length(st_model, texts, batch_size=8)
    finally:
        hook.remove()
    assert [tuple(m.shape) for m in masks] == [(8, 4), (8, 8)]
    assert all(bool(m.all()) for m in masks)  # no padded position anywhere


@pytest.mark.slow
@pytest.mark.parametrize(
    ("encode", "matches"),
    [
        (None, True),  # the model's own encode
        (lambda reference: reference + 1e-3, False),  # another preprocessing
        (lambda reference: 1 / 0, False),  # a model that cannot encode the probes
    ],
    ids=["same", "different", "failing"],
)
def test_a_model_whose_encode_differs_keeps_its_own(
    monkeypatch: pytest.MonkeyPatch, encode: Any, matches: bool
) -> None:
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    model = embedder._model
    if encode is not None:
        real = model.encode
        monkeypatch.setattr(model, "encode", lambda *a, **k: encode(real(*a, **k)))
    assert matches_encode(model) is matches
    texts = ["a short one", "a somewhat longer passage about rivers", "mid length text"]
    assert embedder.plan(texts) == ([0, 2, 1] if matches else [0, 1, 2])
