"""The vector store of a version, FAISS or Milvus: one small interface, chosen by RAG_STORE when
a version is built and by its manifest when it is read."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import rag.store.samples as tuning
from rag.errors import IndexMismatchError, RagError
from rag.progress import Reporter
from rag.store.ann import Tuned, fit, recall_facts, tune
from rag.store.layout import IndexLayout
from rag.store.manifest import Manifest, VectorInfo, load_manifest
from rag.store.samples import QuestionVectors
from rag.store.vectors import IdArray, Matrix, VectorStore

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.store.milvus import MilvusVectors

_HNSW_BUILD = {"M": 16, "efConstruction": 200}
_EF_START, _EF_MAX = 16, 1024


class Vectors(Protocol):
    """What a reader searches and a build edits, whichever store holds the vectors."""

    @property
    def dimension(self) -> int: ...

    @property
    def kind(self) -> str: ...

    def __len__(self) -> int: ...

    def add(self, vectors: Matrix, ids: list[int] | IdArray) -> None: ...

    def remove(self, ids: list[int]) -> int: ...

    def reconstruct(self, ids: list[int]) -> Matrix: ...

    def ids(self) -> list[int]: ...

    def arrays(self) -> tuple[IdArray, Matrix]: ...

    def search(self, query: Matrix, k: int) -> tuple[list[int], list[float]]: ...

    def search_many(self, queries: Matrix, k: int) -> tuple[IdArray, Matrix]: ...


def open_vectors(folder: Path, manifest: Manifest, root: Path, token: str = "") -> Vectors:
    """The vectors of a published version, from the store its manifest names."""
    info = manifest.vectors
    if info.backend == "faiss":
        return VectorStore.load(folder)
    from rag.store.milvus import MilvusVectors
    from rag.store.milvus_conn import resolve_uri

    assert info.collection is not None
    return MilvusVectors.open(
        resolve_uri(info.milvus_uri, root),
        token,
        info.collection,
        manifest.embedding.dimension,
        manifest.version,
        info.count,
        info.kind.removeprefix("Milvus ").split(",")[0],
        {"ef": info.ef} if info.ef else None,
    )


def check_same_store(settings: Settings, info: VectorInfo, root: Path) -> None:
    """Refuse to extend a version held in another store than the settings name."""
    if info.backend != settings.store.backend or (
        info.backend == "milvus" and info.milvus_uri != settings.store.milvus_uri
    ):
        where = f" at {info.milvus_uri}" if info.milvus_uri else ""
        asked = f" at {settings.store.milvus_uri}" if settings.store.milvus_uri else ""
        raise IndexMismatchError(
            f"index at {root} keeps its vectors in {info.backend}{where}; the settings ask "
            f"for {settings.store.backend}{asked} (RAG_STORE, RAG_MILVUS_URI); move them with "
            "`rag index rebuild --full`, or change the settings back"
        )


def start_vectors(
    settings: Settings,
    root: Path,
    base: Vectors | None,
    dimension: int,
    version: int,
    expected: int,
) -> Vectors:
    """The store a build at `version` edits: the base version's, copied or viewed anew, or an
    empty one (for Milvus a new collection, HNSW when `expected` passages reach the ANN
    threshold)."""
    if settings.store.backend == "faiss":
        if isinstance(base, VectorStore):
            return base.copy()
        return VectorStore.empty(dimension)
    from rag.store.milvus import MilvusVectors
    from rag.store.milvus_conn import collection_name, resolve_uri

    if isinstance(base, MilvusVectors):
        return base.writer(version)
    hnsw = expected >= settings.store.ann_threshold
    return MilvusVectors.create(
        resolve_uri(settings.store.milvus_uri, root),
        settings.store.token,
        collection_name(settings.store.milvus_collection, version),
        dimension,
        version,
        "HNSW" if hnsw else "FLAT",
        _HNSW_BUILD if hnsw else {},
    )


def finish_vectors(
    settings: Settings,
    store: Vectors,
    trained_on: int | None,
    build_dir: Path,
    reporter: Reporter,
    questions: QuestionVectors | None = None,
    base: tuple[Path, tuning.Changes] | None = None,
) -> tuple[Vectors, VectorInfo]:
    """Make a build's vectors durable in the layout their size calls for; the manifest facts.
    An approximate layout is tuned on `questions` too, where given, and on the tuning sample
    of the `base` version's folder carried through what this build changed, where there is
    one to carry."""
    if isinstance(store, VectorStore):
        args = (
            settings.store.ann_threshold,
            settings.store.ann_target_recall,
            settings.store.ann_sample,
        )
        if len(store) < settings.store.ann_threshold:
            fitted = fit(store, *args, trained_on)
        else:
            carried = None
            if base is not None and (previous := tuning.load(base[0])) is not None:
                carried = (previous, base[1])
            with reporter.task("IVF index: train, add, measure recall", 1) as tick:
                fitted = fit(store, *args, trained_on, questions, carried)
                tick(1)
        fitted.store.save(build_dir)
        if fitted.samples is not None:
            tuning.save(fitted.samples, build_dir)
        return fitted.store, fitted.info
    from rag.store.milvus import MilvusVectors

    assert isinstance(store, MilvusVectors)
    return store, _finish_milvus(settings, store, reporter, questions)


def _finish_milvus(
    settings: Settings,
    store: MilvusVectors,
    reporter: Reporter,
    questions: QuestionVectors | None,
) -> VectorInfo:
    from rag.errors import IndexCorruptError

    hnsw = store.index_type == "HNSW"
    with reporter.task("Milvus: flush and count" + (", measure recall" if hnsw else ""), 1) as tick:
        store.flush()
        # Reading an HNSW version's vectors out (to measure recall) counts them as well.
        stored = store.arrays() if hnsw else None
        counted = len(stored[0]) if stored is not None else store.count_rows()
        tuned = (
            tune_ef(
                store,
                *stored,
                settings.store.ann_target_recall,
                settings.store.ann_sample,
                questions,
            )
            if (stored is not None and counted)
            else None
        )
        tick(1)
    if counted != len(store):
        raise IndexCorruptError(
            f"Milvus collection {store.collection!r} holds {counted} vectors for version "
            f"{store.version}, the build wrote {len(store)}; nothing was published"
        )
    info = VectorInfo(
        backend="milvus",
        kind=store.kind,
        count=counted,
        milvus_uri=settings.store.milvus_uri,
        collection=store.collection,
    )
    if tuned is None:
        return info
    return info.model_copy(update={"ef": tuned.value, **recall_facts(tuned)})


def tune_ef(
    store: MilvusVectors,
    ids: IdArray,
    matrix: Matrix,
    target: float,
    sample: int,
    questions: QuestionVectors | None = None,
) -> Tuned:
    """The smallest HNSW ef reaching `target` recall@10 against exact search on a sample of
    the version's own passages (`ids`, `matrix`: all of them) and the questions made from
    them, with what it measured."""

    def set_ef(ef: int) -> None:
        store.search_params = {"ef": ef}

    drawn = tuning.draw(ids, matrix, sample, questions)
    return tune(store.search_many, set_ef, _EF_START, _EF_MAX, drawn, target)


def collect_vectors(settings: Settings, root: Path, manifests: list[Manifest]) -> list[str]:
    """After old versions are pruned: drop the Milvus collections and rows no kept version
    (`manifests`) reads. Returns the collections dropped."""
    from rag.store.milvus_conn import collect_garbage, resolve_uri

    oldest: dict[str, int] = {}
    for m in manifests:
        info = m.vectors
        if (
            info.backend == "milvus"
            and info.collection
            and info.milvus_uri == settings.store.milvus_uri
        ):
            oldest[info.collection] = min(oldest.get(info.collection, m.version), m.version)
    return collect_garbage(
        resolve_uri(settings.store.milvus_uri, root),
        settings.store.token,
        settings.store.milvus_collection,
        oldest,
    )


def publish_done(settings: Settings, layout: IndexLayout) -> None:
    """After a publish: prune old versions, then drop the Milvus rows and collections none of
    the kept ones read."""
    layout.prune(settings.index.keep_versions)
    if settings.store.backend != "milvus":
        return  # FAISS vectors went with their version folders
    kept = []
    for version in layout.published():
        try:
            kept.append(load_manifest(layout.version_dir(version) / "manifest.json"))
        except RagError:
            return  # unsure what an unreadable version reads: collect nothing
    collect_vectors(settings, layout.root, kept)
