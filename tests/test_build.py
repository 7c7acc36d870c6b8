"""Build: publish versions, embed only what changed, delete everywhere, report bad files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers.data import synthetic_text, write_corpus
from helpers.fakes import HashEmbedder
from helpers.stores import STORES

from rag.config import Settings, load_settings
from rag.errors import ConfigError, IndexBusyError, IndexMismatchError
from rag.index.build import build_index
from rag.retrieve.search import Searcher
from rag.store import IndexLayout, IndexReader
from rag.store.lexical import LexicalIndex
from rag.store.meta import MetaDB

pytestmark = pytest.mark.parametrize("settings", STORES, indirect=True)


def records(n: int, start: int = 0) -> list[dict[str, str]]:
    return [
        {"id": f"s{i}", "title": f"Source {i}", "text": synthetic_text(i)}
        for i in range(start, start + n)
    ]


def open_index(settings: Settings) -> IndexReader:
    return IndexReader.open(settings.index.dir)


def passage_ids_everywhere(reader: IndexReader) -> dict[str, set[int]]:
    """The vector ids each part of the index holds."""
    return {
        "sqlite": set(reader.meta.all_vec_ids()),
        "faiss": set(reader.vectors.ids()),
        "bm25": {int(v) for v in reader.lexical.vec_ids},
    }


@pytest.fixture
def corpus_1000(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus.jsonl", records(1000))


def test_first_build_embeds_every_passage(
    settings: Settings, embedder: HashEmbedder, corpus_1000: Path
) -> None:
    report = build_index(settings, add=[str(corpus_1000)], embedder=embedder)
    assert report.version == 1
    assert report.sources.added == 1000
    assert report.passages.embedded == report.passages.total == embedder.texts_embedded
    assert embedder.planned == [report.passages.embedded]  # told the job's size first
    reader = open_index(settings)
    ids = passage_ids_everywhere(reader)
    assert ids["sqlite"] == ids["faiss"] == ids["bm25"]
    assert reader.manifest.locations == [str(corpus_1000)]
    assert reader.manifest.embedding.model_id == "test-hash"


def test_adding_one_source_embeds_only_its_passages(
    settings: Settings,
    corpus_1000: Path,
    tmp_path: Path,
    count_tokenized: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build_index(settings, add=[str(corpus_1000)], embedder=HashEmbedder())
    new = tmp_path / "new.md"
    new.write_text("---\ntitle: Harbor festival\n---\n" + synthetic_text(5000, sentences=40))
    embedder = HashEmbedder()
    count_tokenized.clear()

    def unread() -> None:
        raise AssertionError("BM25 extends the last version's rows: no passage text is read")

    monkeypatch.setattr(MetaDB, "iter_lexical", lambda self: unread())
    report = build_index(settings, add=[str(new)], embedder=embedder)
    reader = open_index(settings)
    new_passages = reader.meta.passages_of_source("new.md")
    assert len(new_passages) > 1
    assert report.sources.added == 1 and report.sources.unchanged == 1000
    assert report.passages.embedded == len(new_passages) == embedder.texts_embedded
    assert embedder.planned == [len(new_passages)]
    assert count_tokenized == [len(new_passages)]  # BM25 reused the other passages' saved tokens
    hits = Searcher(reader, settings.search, embedder).search("Item5000 sentence mentions", k=3)
    assert hits[0].source_id == "new.md"


def test_changing_one_source_re_embeds_only_its_changed_passages(
    settings: Settings, tmp_path: Path
) -> None:
    data = records(50)
    data[7]["text"] = synthetic_text(7, sentences=40)
    corpus = write_corpus(tmp_path / "c.jsonl", data)
    build_index(settings, add=[str(corpus)], embedder=HashEmbedder())
    before = open_index(settings).meta.passages_of_source("s7")
    data[7]["text"] = data[7]["text"].replace("Item7 sentence 39", "Item7 sentence thirty-nine")
    write_corpus(corpus, data)
    embedder = HashEmbedder()
    report = build_index(settings, embedder=embedder)
    after = open_index(settings).meta.passages_of_source("s7")
    assert report.sources.changed == 1 and report.sources.unchanged == 49
    changed = {p.id for p in after} - {p.id for p in before}
    assert 1 <= report.passages.embedded == len(changed) < len(after)
    assert report.passages.reused == len(after) - len(changed)
    assert embedder.texts_embedded == report.passages.embedded
    # BM25 extended from the last version's rows equals BM25 built from SQLite.
    reader = open_index(settings)
    rebuilt = LexicalIndex.build(reader.meta.iter_lexical(), settings.index.bm25_titles)
    assert reader.lexical.vec_ids.tolist() == rebuilt.vec_ids.tolist()
    for query in ("Item7 sentence thirty-nine", "Item7 sentence 39", "Item12 harbor"):
        assert reader.lexical.search(query, 5) == rebuilt.search(query, 5)


def test_deleting_a_source_removes_it_from_faiss_bm25_and_sqlite(
    settings: Settings, tmp_path: Path
) -> None:
    data = records(30)
    corpus = write_corpus(tmp_path / "c.jsonl", data)
    build_index(settings, add=[str(corpus)], embedder=HashEmbedder())
    gone = {p.id for p in open_index(settings).meta.passages_of_source("s3")}
    write_corpus(corpus, data[:3] + data[4:])
    embedder = HashEmbedder()
    report = build_index(settings, embedder=embedder)
    reader = open_index(settings)
    assert report.sources.removed == 1 and report.passages.deleted == len(gone)
    assert embedder.texts_embedded == 0
    assert reader.meta.source("s3") is None and reader.meta.passages_of_source("s3") == []
    ids = passage_ids_everywhere(reader)
    assert ids["sqlite"] == ids["faiss"] == ids["bm25"]
    hits = Searcher(reader, settings.search, embedder).search("Item3 sentence", k=50, mode="bm25")
    assert "s3" not in {h.source_id for h in hits}


def test_remove_by_source_id_keeps_it_out_until_added_again(
    settings: Settings, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl", records(5))
    build_index(settings, add=[str(corpus)], embedder=HashEmbedder())
    report = build_index(settings, remove=["s2"], embedder=HashEmbedder())
    assert report.sources.removed == 1
    assert open_index(settings).manifest.excluded == ["s2"]
    report = build_index(settings, full=True, embedder=HashEmbedder())
    assert open_index(settings).meta.source("s2") is None
    report = build_index(settings, add=[str(corpus)], embedder=HashEmbedder())
    assert report.sources.added == 1
    assert open_index(settings).manifest.excluded == []


def test_remove_a_location_and_a_file(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("a.txt", "b.txt"):
        (folder / name).write_text(f"Title {name}\n{synthetic_text(len(name))}")
    corpus = write_corpus(tmp_path / "c.jsonl", records(3))
    build_index(settings, add=[str(folder), str(corpus)], embedder=HashEmbedder())
    build_index(settings, remove=[str(folder / "a.txt")], embedder=HashEmbedder())
    assert open_index(settings).meta.source_ids() == ["b.txt", "s0", "s1", "s2"]
    report = build_index(settings, remove=[str(corpus)], embedder=HashEmbedder())
    assert report.sources.removed == 3
    reader = open_index(settings)
    assert reader.meta.source_ids() == ["b.txt"]
    assert reader.manifest.locations == [str(folder)]


def test_remove_unknown_item_is_an_error_naming_it(settings: Settings, tmp_path: Path) -> None:
    build_index(
        settings, add=[str(write_corpus(tmp_path / "c.jsonl", records(2)))], embedder=HashEmbedder()
    )
    with pytest.raises(ConfigError, match="'nope' is neither a registered location"):
        build_index(settings, remove=["nope"], embedder=HashEmbedder())


def test_adding_a_missing_path_is_an_error(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        build_index(settings, add=[str(tmp_path / "typo")], embedder=HashEmbedder())
    assert IndexLayout(settings.index.dir).current_version() is None


def test_rebuild_with_nothing_new_keeps_the_version(settings: Settings, tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl", records(10))
    build_index(settings, add=[str(corpus)], embedder=HashEmbedder())
    embedder = HashEmbedder()
    report = build_index(settings, embedder=embedder)
    assert (report.version, report.sources.unchanged, embedder.calls) == (1, 10, [])


def test_touching_a_file_without_changing_it_embeds_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl", records(10))
    build_index(settings, add=[str(corpus)], embedder=HashEmbedder())
    os.utime(corpus, ns=(1, 1))
    embedder = HashEmbedder()
    report = build_index(settings, embedder=embedder)
    assert report.sources.unchanged == 10 and embedder.calls == []


def test_full_rebuild_re_embeds_everything(settings: Settings, tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl", records(10))
    first = build_index(settings, add=[str(corpus)], embedder=HashEmbedder())
    embedder = HashEmbedder()
    report = build_index(settings, full=True, embedder=embedder)
    assert report.version == 2 and report.full
    assert report.passages.embedded == first.passages.total == embedder.texts_embedded


def test_mixed_folder_indexes_good_files_and_lists_bad_ones(
    settings: Settings, tmp_path: Path
) -> None:
    from helpers.data import ARTICLE_HTML, make_pdf

    folder = tmp_path / "mixed"
    (folder / "sub").mkdir(parents=True)
    good = {
        "a.txt": b"Alpha title\nThe alpha report covers the river bridge budget.",
        "sub/b.md": b"# Beta\n\nThe beta memo covers the school court.",
        "c.html": ARTICLE_HTML,
        "d.pdf": make_pdf("The delta filing covers the county sheriff."),
        "e.jsonl": b'{"id": "e1", "text": "Epsilon line one."}\n{"id": "e2", "text": "Two."}\n',
    }
    bad = {
        "blob.txt": (b"\x00\x01\x02\x03", "binary file"),
        "broken.pdf": (b"%PDF-1.4 garbage", "PDF"),
        "latin.txt": ("d\u00e9j\u00e0 vu".encode("latin-1"), "not valid UTF-8"),
        "empty.txt": (b"", "empty file"),
        "big.txt": (b"x " * 700_000, "over the 1.0 MB limit"),
    }
    for name, content in good.items():
        (folder / name).write_bytes(content)
    for name, (content, _) in bad.items():
        (folder / name).write_bytes(content)
    settings = load_settings(index_dir=settings.index.dir, max_file_mb=1)
    report = build_index(settings, add=[str(folder)], embedder=HashEmbedder())
    reader = open_index(settings)
    assert reader.meta.source_ids() == ["a.txt", "c.html", "d.pdf", "e1", "e2", "sub/b.md"]
    failed = {Path(f.path).name: f.reason for f in report.sources.failed}
    assert set(failed) == set(bad)
    for name, (_, reason) in bad.items():
        assert reason in failed[name]
    assert report.sources.added == 6
    # Bad files stay listed on the next rebuild rather than vanishing from view.
    again = build_index(settings, embedder=HashEmbedder())
    assert {Path(f.path).name for f in again.sources.failed} == set(bad)


def test_duplicate_ids_across_files_keep_the_first(settings: Settings, tmp_path: Path) -> None:
    write_corpus(tmp_path / "a.jsonl", [{"id": "x", "text": "First copy."}])
    write_corpus(tmp_path / "b.jsonl", [{"id": "x", "text": "Second copy."}])
    report = build_index(
        settings,
        add=[str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")],
        embedder=HashEmbedder(),
    )
    [failure] = report.sources.failed
    assert "duplicate source id 'x'" in failure.reason and failure.path.endswith("b.jsonl")
    assert open_index(settings).meta.source("x").text == "First copy."  # type: ignore[union-attr]


def test_a_second_builder_is_refused_while_one_holds_the_lock(
    settings: Settings, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl", records(3))
    with IndexLayout(settings.index.dir).write_lock(), pytest.raises(IndexBusyError):
        build_index(settings, add=[str(corpus)], embedder=HashEmbedder())


@pytest.mark.parametrize(
    ("overrides", "embedder", "message"),
    [
        ({}, HashEmbedder(model_id="other-model"), "built with model 'test-hash'"),
        ({"embed_titles": True}, HashEmbedder(), "titles embedded: False"),
        ({"chunk_target_words": 100}, HashEmbedder(), "re-chunk with `rag index rebuild --full`"),
    ],
)
def test_incremental_build_refuses_other_model_or_chunking(
    settings: Settings,
    tmp_path: Path,
    overrides: dict[str, object],
    embedder: HashEmbedder,
    message: str,
) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl", records(3))
    build_index(settings, add=[str(corpus)], embedder=HashEmbedder())
    changed = load_settings(index_dir=settings.index.dir, store=settings.store.backend, **overrides)
    with pytest.raises(IndexMismatchError, match=message):
        build_index(changed, embedder=embedder)
    report = build_index(changed, full=True, embedder=embedder)
    assert report.version == 2


def test_bm25_titles_changed_re_tokenizes_without_re_embedding(
    settings: Settings, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl", records(3))
    build_index(settings, add=[str(corpus)], embedder=HashEmbedder())
    assert open_index(settings).manifest.bm25_titles is True
    assert open_index(settings).lexical.search("source", 5)[0]  # the titles' word is found
    changed = settings.updated(bm25_titles=False)
    embedder = HashEmbedder()
    report = build_index(changed, embedder=embedder)
    assert report.version == 2 and embedder.texts_embedded == 0
    reader = open_index(changed)
    assert reader.manifest.bm25_titles is False
    assert reader.lexical.search("source", 5) == ([], [])


def built_manifest(settings: Settings, tmp_path: Path) -> Path:
    """The manifest of a first version of three sources."""
    corpus = write_corpus(tmp_path / "c.jsonl", records(3))
    build_index(settings, add=[str(corpus)], embedder=HashEmbedder())
    return IndexLayout(settings.index.dir).version_dir(1) / "manifest.json"


def test_a_manifest_from_before_bm25_titles_reads_them_as_embedded(
    settings: Settings, tmp_path: Path
) -> None:
    path = built_manifest(settings, tmp_path)
    raw = json.loads(path.read_text())
    del raw["bm25_titles"]
    path.write_text(json.dumps(raw))
    assert open_index(settings).manifest.bm25_titles is False  # embed_titles was false


def test_incremental_build_refuses_another_store_and_full_rebuild_moves_it(
    settings: Settings, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl", records(3))
    build_index(settings, add=[str(corpus)], embedder=HashEmbedder())
    other = "faiss" if settings.store.backend == "milvus" else "milvus"
    changed = load_settings(index_dir=settings.index.dir, store=other)
    with pytest.raises(IndexMismatchError, match=f"keeps its vectors in {settings.store.backend}"):
        build_index(changed, embedder=HashEmbedder())
    report = build_index(changed, full=True, embedder=HashEmbedder())
    reader = open_index(changed)
    assert report.version == 2 and reader.manifest.vectors.backend == other
    assert set(reader.vectors.ids()) == set(reader.meta.all_vec_ids())
    reader.close()


def test_search_refuses_an_index_of_another_model(settings: Settings, tmp_path: Path) -> None:
    build_index(
        settings, add=[str(write_corpus(tmp_path / "c.jsonl", records(3)))], embedder=HashEmbedder()
    )
    with pytest.raises(IndexMismatchError, match="rebuild with `rag index rebuild --full`"):
        Searcher(open_index(settings), settings.search, HashEmbedder(model_id="x", dimension=32))


def test_other_format_version_is_refused_and_full_rebuild_recovers(
    settings: Settings, tmp_path: Path
) -> None:
    path = built_manifest(settings, tmp_path)
    data = json.loads(path.read_text())
    data["format_version"] = 0
    path.write_text(json.dumps(data))
    with pytest.raises(IndexMismatchError, match="format version 0"):
        open_index(settings)
    with pytest.raises(IndexMismatchError):
        build_index(settings, embedder=HashEmbedder())
    report = build_index(settings, full=True, embedder=HashEmbedder())
    assert report.version == 2 and report.sources.added == 3


def test_round_trip_save_load_gives_the_same_results(settings: Settings, tmp_path: Path) -> None:
    build_index(
        settings,
        add=[str(write_corpus(tmp_path / "c.jsonl", records(40)))],
        embedder=HashEmbedder(),
    )
    first = Searcher(open_index(settings), settings.search, HashEmbedder())
    second = Searcher(open_index(settings), settings.search, HashEmbedder())
    for mode in ("dense", "bm25", "hybrid"):
        a = first.search("Item12 sentence harbor election", k=5, mode=mode)
        b = second.search("Item12 sentence harbor election", k=5, mode=mode)
        assert a == b and len(a) == 5
    rebuilt = LexicalIndex.build(first.reader.meta.iter_lexical(), settings.index.bm25_titles)
    assert rebuilt.search("harbor", 5) == first.reader.lexical.search("harbor", 5)


def test_old_versions_are_pruned_and_a_reader_keeps_its_version(
    settings: Settings, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl", records(5))
    build_index(settings, add=[str(corpus)], embedder=HashEmbedder())
    reader = open_index(settings)
    for n in range(6, 10):
        write_corpus(corpus, records(n))
        build_index(settings, embedder=HashEmbedder())
    layout = IndexLayout(settings.index.dir)
    assert layout.published() == [3, 4, 5] and layout.current_version() == 5
    # Opened at version 1 and still answering from it, though it is gone from disk.
    assert reader.version == 1 and reader.meta.count("sources") == 5
    assert len(Searcher(reader, settings.search, HashEmbedder()).search("Item1 sentence", k=3)) == 3
