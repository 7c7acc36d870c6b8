"""`rag index verify`: each way a version's parts can disagree is found, named and mended."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
import pytest
from click.testing import CliRunner
from helpers.data import synthetic_text, write_corpus
from helpers.fakes import HashEmbedder
from helpers.stores import STORES

from rag.cli.app import cli
from rag.cli.common import Runtime
from rag.config import DEFAULT_EMBED_MODEL, Settings
from rag.errors import IndexCorruptError, IndexMismatchError
from rag.index.build import build_index
from rag.index.mend import mend_index
from rag.index.verify import verify_index
from rag.retrieve.search import Searcher
from rag.store import IndexLayout, IndexReader
from rag.store.backends import Vectors, open_vectors
from rag.store.lexical import BM25_DIR
from rag.store.manifest import load_manifest
from rag.store.milvus import ALIVE, MilvusVectors
from rag.store.vectors import FAISS_FILE, VectorStore

pytestmark = pytest.mark.parametrize("settings", STORES, indirect=True)

N_SOURCES = 30
QUERIES = ["Item7 sentence harbor", "council police ordinance", "Item21 railway strike"]


@pytest.fixture
def built(settings: Settings, tmp_path: Path) -> Settings:
    corpus = write_corpus(
        tmp_path / "c.jsonl",
        [{"id": f"s{i}", "title": f"T{i}", "text": synthetic_text(i)} for i in range(N_SOURCES)],
    )
    build_index(settings, add=[str(corpus)], embedder=HashEmbedder(model_id=DEFAULT_EMBED_MODEL))
    return settings


def folder(settings: Settings) -> Path:
    layout = IndexLayout(settings.index.dir)
    return layout.version_dir(layout.require_current())


def results(settings: Settings) -> list[list[tuple[str, float]]]:
    reader = IndexReader.open(settings.index.dir)
    searcher = Searcher(reader, settings.search, HashEmbedder(model_id=DEFAULT_EMBED_MODEL))
    try:
        return [
            [(h.passage_id, round(h.score, 5)) for h in searcher.search(q, k=8)] for q in QUERIES
        ]
    finally:
        reader.close()


def vectors_of(settings: Settings) -> Vectors:
    """The current version's vectors, opened for editing in place (for Milvus a view of the
    published version, so its edits change what that version sees, like a file edit)."""
    manifest = load_manifest(folder(settings) / "manifest.json")
    return open_vectors(folder(settings), manifest, settings.index.dir)


def vector_part(settings: Settings) -> str:
    return "Milvus" if settings.store.backend == "milvus" else "FAISS"


def edit_vectors(settings: Settings, change: Callable[[Vectors], object]) -> None:
    store = vectors_of(settings)
    change(store)
    if isinstance(store, VectorStore):
        store.save(folder(settings))
    else:
        assert isinstance(store, MilvusVectors)
        store.flush()


def drop_first_vector(settings: Settings) -> None:
    edit_vectors(settings, lambda s: s.remove(s.ids()[:1]))


def add_stray_vector(settings: Settings) -> None:
    vec = np.zeros((1, 64), np.float32)
    vec[0, 0] = 1.0
    store = vectors_of(settings)
    if isinstance(store, MilvusVectors):  # a row written by something other than rag
        row = {"row": 2**50, "vid": 123456789, "born": 1, "died": ALIVE, "vec": vec[0].tolist()}
        store.client.insert(store.collection, [row])
        store.flush()
    else:
        edit_vectors(settings, lambda s: s.add(vec, [123456789]))


def break_one_vector(settings: Settings) -> None:
    def change(store: Vectors) -> None:
        first = store.ids()[0]
        vec = store.reconstruct([first]) * 3.0  # no longer unit length: a torn write
        store.remove([first])
        store.add(vec, [first])

    edit_vectors(settings, change)


def lose_vectors(settings: Settings) -> None:
    """FAISS: the file is overwritten; Milvus: the collection is dropped."""
    store = vectors_of(settings)
    if isinstance(store, MilvusVectors):
        store.client.drop_collection(store.collection)
    else:
        (folder(settings) / FAISS_FILE).write_bytes(b"not a faiss index")


def drop_bm25_row(settings: Settings) -> None:
    ids_file = folder(settings) / BM25_DIR / "vec_ids.npy"
    ids = np.load(ids_file)
    ids[0] = 42  # the row now names a passage that does not exist
    np.save(ids_file, ids)


def delete_bm25(settings: Settings) -> None:
    shutil.rmtree(folder(settings) / BM25_DIR)


def wrong_manifest_count(settings: Settings) -> None:
    path = folder(settings) / "manifest.json"
    data = json.loads(path.read_text())
    data["passages"] += 5
    path.write_text(json.dumps(data))


def garble_sqlite(settings: Settings) -> None:
    (folder(settings) / "meta.sqlite").write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)


# (corruption, part named, words in the message, passages re-embedded by the mend);
# "vectors" is the store's part: FAISS or Milvus.
CASES = [
    (drop_first_vector, "vectors", "1 passage(s) in SQLite are missing", 1),
    (add_stray_vector, "vectors", "1 id(s) belong to no passage in SQLite: 123456789", 0),
    (break_one_vector, "vectors", "1 vector(s) not unit length", 1),
    (lose_vectors, "vectors", "cannot read|has no collection", None),  # None: every passage
    (drop_bm25_row, "BM25", "belong to no passage in SQLite: 42", 0),
    (delete_bm25, "BM25", "cannot read BM25 index", 0),
    (wrong_manifest_count, "manifest", "passages, SQLite has", 0),
    (garble_sqlite, "SQLite", "cannot read the metadata", None),  # full rebuild from the corpus
]


def test_a_sound_index_checks_ok(built: Settings) -> None:
    report = verify_index(built)
    assert report.ok and report.problems == [] and report.leftovers == []
    assert len(set(report.counts.values())) == 1 and set(report.counts) == {
        "manifest",
        "SQLite",
        vector_part(built),
        "BM25",
    }


@pytest.mark.parametrize(("corrupt", "part", "message", "re_embedded"), CASES)
def test_verify_names_the_problem_and_mend_restores_the_same_results(
    built: Settings,
    monkeypatch: pytest.MonkeyPatch,
    corrupt: Callable[[Settings], None],
    part: str,
    message: str,
    re_embedded: int | None,
) -> None:
    fake = HashEmbedder(model_id=DEFAULT_EMBED_MODEL)
    before = results(built)
    total = verify_index(built).counts["SQLite"]
    corrupt(built)

    report = verify_index(built)
    assert not report.ok
    part = vector_part(built) if part == "vectors" else part
    found = [p for p in report.problems if p.part == part]
    assert any(m in p.message for p in found for m in message.split("|")), report.problems

    mended = mend_index(built, embedder=fake)
    assert mended.ok and mended.mended_from == 1 and mended.version == 2
    assert mended.re_embedded == (total if re_embedded is None else re_embedded)
    assert verify_index(built).ok
    assert results(built) == before


def test_mending_a_sound_index_publishes_nothing(built: Settings) -> None:
    report = mend_index(built)
    assert report.ok and report.mended_from is None and report.version == 1


def test_leftovers_of_dead_builds_are_listed_and_cleared(built: Settings) -> None:
    layout = IndexLayout(built.index.dir)
    dead = layout.new_build_dir()
    unpublished = layout.version_dir(2)
    shutil.copytree(layout.version_dir(1), unpublished)  # renamed, but CURRENT never swapped
    report = verify_index(built)
    assert report.ok and report.leftovers == [str(dead), str(unpublished)]
    assert mend_index(built).leftovers == []
    assert not dead.exists() and not unpublished.exists()


def test_a_lost_manifest_cannot_be_mended_and_says_what_to_do(built: Settings) -> None:
    (folder(built) / "manifest.json").unlink()
    assert [p.part for p in verify_index(built).problems] == ["manifest"]
    with pytest.raises(IndexCorruptError, match="add the locations again"):
        mend_index(built)


def test_current_naming_a_missing_folder_is_a_layout_problem(built: Settings) -> None:
    shutil.rmtree(folder(built))
    [problem] = verify_index(built).problems
    assert problem.part == "layout" and "does not exist" in problem.message


def test_a_reader_refuses_a_broken_version_and_names_the_mend(built: Settings) -> None:
    if built.store.backend == "milvus":
        # Counting a version's Milvus rows is a scan (~5 s per 100k on Lite), so a reader
        # takes the manifest's count and `rag index verify` does the counting.
        lose_vectors(built)
        with pytest.raises(IndexCorruptError, match="rag index verify --mend"):
            IndexReader.open(built.index.dir)
    else:
        drop_first_vector(built)
        with pytest.raises(IndexCorruptError, match="rag index verify --mend"):
            IndexReader.open(built.index.dir)
    garble_sqlite(built)
    with pytest.raises(IndexCorruptError, match=r"cannot read .*meta\.sqlite"):
        IndexReader.open(built.index.dir)


def test_cli_verify_exit_codes_and_json(built: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    given = Runtime(embedder=HashEmbedder(model_id=DEFAULT_EMBED_MODEL))
    monkeypatch.setenv("RAG_STORE", built.store.backend)
    index = ["--index", str(built.index.dir)]
    ok = CliRunner().invoke(cli, ["index", "verify", *index])
    assert ok.exit_code == 0 and "ok" in ok.stdout
    drop_first_vector(built)
    bad = CliRunner().invoke(cli, ["index", "verify", *index, "--json"])
    assert bad.exit_code == 5
    assert json.loads(bad.stdout)["problems"][0]["part"] == vector_part(built)
    fixed = CliRunner().invoke(cli, ["index", "verify", "--mend", *index], obj=given)
    assert fixed.exit_code == 0, fixed.output
    assert "mended version 1 as version 2" in fixed.stdout
    assert "1 passages re-embedded" in fixed.stdout


def approximate(settings: Settings) -> bool:
    store = vectors_of(settings)
    if isinstance(store, MilvusVectors):
        return store.index_type == "HNSW"
    assert isinstance(store, VectorStore)
    return isinstance(store.index, faiss.IndexIVFFlat)


def test_mending_keeps_an_approximate_layout_approximate(built: Settings) -> None:
    settings = built.updated(ann_threshold=10, ann_sample=20)
    build_index(settings, full=True, embedder=HashEmbedder(model_id=DEFAULT_EMBED_MODEL))
    assert approximate(settings)
    drop_first_vector(settings)
    report = mend_index(settings, embedder=HashEmbedder(model_id=DEFAULT_EMBED_MODEL))
    assert report.ok and report.re_embedded == 1
    assert approximate(settings)


def test_mending_with_sound_vectors_refuses_another_model_for_the_question_probes(
    built: Settings,
) -> None:
    """Nothing to re-embed, but an approximate layout is tuned on question probes: they must be
    encoded by the index's model, not whatever the settings load."""
    settings = built.updated(ann_threshold=10, ann_sample=20)
    build_index(settings, full=True, embedder=HashEmbedder(model_id=DEFAULT_EMBED_MODEL))
    delete_bm25(settings)
    with pytest.raises(IndexMismatchError, match="RAG_EMBED_MODEL"):
        mend_index(settings, embedder=HashEmbedder(model_id="another-model"))
    assert approximate(settings)
