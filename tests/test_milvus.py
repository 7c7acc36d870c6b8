"""What only the Milvus store has: rows of several versions in one collection, taken back after a
dead build and collected once no kept version reads them; one process per Milvus Lite folder."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from helpers.data import synthetic_text, write_corpus
from helpers.fakes import HashEmbedder

from rag.config import Settings, load_settings
from rag.errors import IndexBusyError, VectorStoreError
from rag.index.build import build_index
from rag.index.info import index_info
from rag.index.verify import verify_index
from rag.store import IndexReader
from rag.store.milvus import MilvusVectors
from rag.store.milvus_conn import close_clients, connect


@pytest.fixture
def milvus(tmp_path: Path) -> Iterator[Settings]:
    yield load_settings(index_dir=tmp_path / "index", store="milvus")
    close_clients()


def corpus(path: Path, start: int, n: int) -> Path:
    return write_corpus(
        path,
        [{"id": f"s{i}", "title": f"T{i}", "text": synthetic_text(i)} for i in range(start, n)],
    )


def vectors(reader: IndexReader) -> MilvusVectors:
    assert isinstance(reader.vectors, MilvusVectors)
    return reader.vectors


def all_rows(store: MilvusVectors) -> int:
    res = store.client.query(store.collection, filter="", output_fields=["count(*)"])
    return int(res[0]["count(*)"])


def test_rows_of_a_dead_build_are_invisible_and_taken_back(
    milvus: Settings, tmp_path: Path
) -> None:
    build_index(milvus, add=[str(corpus(tmp_path / "c.jsonl", 0, 20))], embedder=HashEmbedder())
    reader = IndexReader.open(milvus.index.dir)
    published = vectors(reader)
    before_ids = sorted(published.ids())
    query = HashEmbedder().encode(["Item3 sentence harbor"])[0]
    before_hits = published.search(query, 5)

    # A build of version 2 that wrote and removed rows, then died before publishing.
    dead = published.writer(2)
    dead.remove(before_ids[:5])
    dead.add(np.eye(1, 64, dtype=np.float32).repeat(3, axis=0), [1, 2, 3])
    dead.flush()
    assert sorted(published.ids()) == before_ids and published.search(query, 5) == before_hits
    assert published.count_rows() == len(before_ids)

    report = build_index(milvus, embedder=HashEmbedder())  # nothing changed: no new version
    assert report.version == 1
    build_index(milvus, add=[str(corpus(tmp_path / "d.jsonl", 20, 25))], embedder=HashEmbedder())
    after = IndexReader.open(milvus.index.dir)
    assert after.version == 2 and verify_index(milvus).ok
    assert set(vectors(after).ids()) == set(after.meta.all_vec_ids())
    assert {1, 2, 3}.isdisjoint(vectors(after).ids())
    assert set(before_ids) <= set(vectors(after).ids())


def test_rows_and_collections_no_kept_version_reads_are_collected(
    milvus: Settings, tmp_path: Path
) -> None:
    settings = milvus.updated(keep_versions=1)
    source = tmp_path / "src"
    source.mkdir()
    for i in range(6):
        (source / f"d{i}.txt").write_text(synthetic_text(i, sentences=20))
    build_index(settings, add=[str(source)], embedder=HashEmbedder())
    (source / "d0.txt").write_text(synthetic_text(100, sentences=20))  # changed
    (source / "d1.txt").unlink()  # removed
    build_index(settings, embedder=HashEmbedder())
    reader = IndexReader.open(settings.index.dir)
    store = vectors(reader)
    assert store.collection == "rag_000001" and reader.version == 2
    assert all_rows(store) == store.count_rows() == reader.manifest.passages

    build_index(settings, full=True, embedder=HashEmbedder())
    names = connect(str(settings.index.dir / "milvus.db")).list_collections()
    assert names == ["rag_000003"]


def test_info_names_the_collection(milvus: Settings, tmp_path: Path) -> None:
    build_index(milvus, add=[str(corpus(tmp_path / "c.jsonl", 0, 5))], embedder=HashEmbedder())
    rows = dict(index_info(milvus).rows())
    assert rows["vectors"].startswith("Milvus rag_000001 at the Milvus Lite folder in the index")


def test_an_approximate_collection_records_its_measured_recall(
    milvus: Settings, tmp_path: Path
) -> None:
    settings = milvus.updated(ann_threshold=50, ann_sample=40)
    build_index(settings, add=[str(corpus(tmp_path / "c.jsonl", 0, 80))], embedder=HashEmbedder())
    info = IndexReader.open(settings.index.dir).manifest.vectors
    assert info.kind == "Milvus HNSW,IP" and info.ef is not None
    assert info.recall_at_10 is not None and info.recall_at_10 >= settings.store.ann_target_recall
    assert info.recall_queries == 40


def test_a_lite_folder_open_in_another_process_is_refused_with_the_fix(tmp_path: Path) -> None:
    folder = tmp_path / "milvus.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pymilvus import MilvusClient; MilvusClient(sys.argv[1]); "
            "print('open', flush=True); time.sleep(60)",
            str(folder),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(
            IndexBusyError, match=re.escape("RAG_MILVUS_URI=http://127.0.0.1:19530")
        ):
            connect(str(folder))
    finally:
        holder.kill()
        holder.wait()


def test_an_unreachable_server_is_a_clear_error() -> None:
    started = time.monotonic()
    with pytest.raises(
        VectorStoreError, match=re.escape("cannot connect to Milvus at http://127.0.0.1:9")
    ):
        connect("http://127.0.0.1:9")
    assert time.monotonic() - started < 60
