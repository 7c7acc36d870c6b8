"""Check: do SQLite, the vectors (FAISS or Milvus), BM25 and the manifest of the current version
agree? And repair.

SQLite is the source of truth (it holds every source's text and every passage): a repair keeps
the vectors that are present and sound, re-embeds the passages whose vectors are missing or
broken, rebuilds BM25 from SQLite and publishes the result as a new version, so readers switch
to it atomically like after any build. Without a readable SQLite or manifest the only repair is
a full rebuild from the registered locations.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from rag.build import Builder, embed_in_blocks, publish_done
from rag.chunk import titled
from rag.config import Settings
from rag.embed import Embedder, load_embedder
from rag.errors import IndexCorruptError, IndexMismatchError, RagError
from rag.probes import question_vectors
from rag.progress import Reporter, Silent
from rag.store import META_FILE, IndexLayout
from rag.store.backends import (
    Vectors,
    check_same_store,
    finish_vectors,
    open_vectors,
    start_vectors,
    token_of,
)
from rag.store.layout import MANIFEST
from rag.store.lexical import LexicalIndex
from rag.store.manifest import Manifest, load_manifest
from rag.store.meta import MetaDB
from rag.store.vectors import FAISS_FILE, VectorStore
from rag.types import Contract

Part = Literal["layout", "manifest", "SQLite", "FAISS", "Milvus", "BM25"]
_NORM_TOLERANCE = 1e-3
_SHOWN = 5  # ids named in a message


class CheckProblem(Contract):
    """One way the parts of a version disagree or are broken."""

    part: Part = Field(description="Which part of the version is wrong.")
    message: str = Field(description="What is wrong, with a few of the ids involved.")


class CheckReport(Contract):
    """`rag index check --json`."""

    index_dir: str = Field(description="Index folder.")
    version: int = Field(description="The version checked (after a repair: the new one).")
    ok: bool = Field(description="True when every part agrees and nothing is broken.")
    counts: dict[str, int] = Field(
        description="Passages in SQLite, the vectors (FAISS or Milvus), BM25, the manifest."
    )
    problems: list[CheckProblem] = Field(description="What disagrees (empty when ok).")
    leftovers: list[str] = Field(
        description="Folders left by builds that died; harmless, removed by the next build."
    )
    repaired_from: int | None = Field(
        None, description="The broken version a repair replaced, if a repair ran."
    )
    re_embedded: int = Field(0, description="Passages a repair had to embed again.")
    kept_vectors: int = Field(0, description="Vectors a repair carried over unchanged.")


@dataclass
class _Parts:
    """What could be read of one version, and what could not."""

    manifest: Manifest | None = None
    meta: MetaDB | None = None
    vectors: Vectors | None = None
    vector_part: Part = "FAISS"
    # Every stored id and vector, copied out once (checked here, reused by a repair).
    stored: tuple[np.ndarray, np.ndarray] | None = None
    lexical: LexicalIndex | None = None
    sql_ids: set[int] = field(default_factory=set)
    problems: list[CheckProblem] = field(default_factory=list)

    def close(self) -> None:
        if self.meta is not None:
            self.meta.close()


def _few(ids: set[int]) -> str:
    shown = ", ".join(str(i) for i in sorted(ids)[:_SHOWN])
    return shown + (f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else "")


def _read(folder: Path, root: Path, token: str) -> tuple[_Parts, dict[str, int]]:
    parts = _Parts()
    counts: dict[str, int] = {}
    add = parts.problems.append
    try:
        parts.manifest = load_manifest(folder / MANIFEST)
        counts["manifest"] = parts.manifest.passages
    except RagError as exc:
        add(CheckProblem(part="manifest", message=str(exc)))
    try:
        if not (folder / META_FILE).is_file():
            raise sqlite3.DatabaseError(f"{folder / META_FILE} is missing")
        parts.meta = MetaDB.open_readonly(folder / META_FILE)
        verdict = parts.meta.conn.execute("PRAGMA quick_check").fetchone()[0]
        if verdict != "ok":
            raise sqlite3.DatabaseError(f"quick_check says {verdict}")
        parts.sql_ids = set(parts.meta.all_vec_ids())
        counts["SQLite"] = len(parts.sql_ids)
        orphans = parts.meta.conn.execute(
            "SELECT COUNT(*) FROM passages WHERE source_id NOT IN (SELECT id FROM sources)"
        ).fetchone()[0]
        if orphans:
            add(CheckProblem(part="SQLite", message=f"{orphans} passage(s) of no known source"))
    except sqlite3.DatabaseError as exc:
        add(CheckProblem(part="SQLite", message=f"cannot read the metadata: {exc}"))
        if parts.meta is not None:
            parts.meta.close()
        parts.meta = None
    if parts.manifest is not None and parts.manifest.vectors.backend == "milvus":
        parts.vector_part = "Milvus"
    try:
        if parts.manifest is not None:
            parts.vectors = open_vectors(folder, parts.manifest, root, token)
        elif (folder / FAISS_FILE).is_file():
            parts.vectors = VectorStore.load(folder)
        # else: a Milvus version without its manifest; which collection is unknown, and the
        # manifest's own problem already says so.
        if parts.vectors is not None:
            parts.stored = parts.vectors.arrays()
    except RagError as exc:
        add(CheckProblem(part=parts.vector_part, message=str(exc)))
    try:
        parts.lexical = LexicalIndex.load(folder)
    except RagError as exc:
        add(CheckProblem(part="BM25", message=str(exc)))
    return parts, counts


def _compare(parts: _Parts, counts: dict[str, int]) -> None:
    add = parts.problems.append
    id_sets: dict[Part, list[int]] = {}
    if parts.stored is not None:
        id_sets[parts.vector_part] = [int(i) for i in parts.stored[0]]
    if parts.lexical is not None:
        id_sets["BM25"] = [int(i) for i in parts.lexical.vec_ids]
    for name, ids in id_sets.items():
        counts[name] = len(ids)
        unique = set(ids)
        if len(unique) != len(ids):
            add(CheckProblem(part=name, message=f"{len(ids) - len(unique)} duplicate id(s)"))
        if parts.meta is None:
            continue
        missing, extra = parts.sql_ids - unique, unique - parts.sql_ids
        if missing:
            add(
                CheckProblem(
                    part=name,
                    message=f"{len(missing)} passage(s) in SQLite are missing: {_few(missing)}",
                )
            )
        if extra:
            add(
                CheckProblem(
                    part=name,
                    message=f"{len(extra)} id(s) belong to no passage in SQLite: {_few(extra)}",
                )
            )
    if parts.stored is not None:
        stored, matrix = parts.stored
        bad = {int(i) for i in stored[~_sound(matrix)]}
        if bad:
            add(
                CheckProblem(
                    part=parts.vector_part,
                    message=f"{len(bad)} vector(s) not unit length or not finite: {_few(bad)}",
                )
            )
    manifest = parts.manifest
    if manifest is None:
        return
    if parts.vectors is not None and parts.vectors.dimension != manifest.embedding.dimension:
        add(
            CheckProblem(
                part=parts.vector_part,
                message=f"dimension {parts.vectors.dimension}, the manifest says "
                f"{manifest.embedding.dimension}",
            )
        )
    if parts.meta is not None:
        facts = {
            "passages": (manifest.passages, len(parts.sql_ids)),
            "sources": (manifest.sources, parts.meta.count("sources")),
        }
        for what, (recorded, found) in facts.items():
            if recorded != found:
                add(
                    CheckProblem(
                        part="manifest", message=f"records {recorded} {what}, SQLite has {found}"
                    )
                )
    if (
        parts.stored is not None
        and "count" in manifest.vectors.model_fields_set
        and manifest.vectors.count != len(parts.stored[0])
    ):
        add(
            CheckProblem(
                part="manifest",
                message=f"records {manifest.vectors.count} vectors, {parts.vector_part} has "
                f"{len(parts.stored[0])}",
            )
        )


def _sound(matrix: np.ndarray) -> np.ndarray:
    """Rows that are finite and unit length (a normalized index has no others)."""
    with np.errstate(all="ignore"):
        norms = np.linalg.norm(matrix, axis=1)
    sound: np.ndarray = np.isfinite(norms) & (np.abs(norms - 1.0) <= _NORM_TOLERANCE)
    return sound


def _older_locations(layout: IndexLayout, current: int) -> str:
    """' (version N registered: a, b)' from the newest older manifest that reads, if any."""
    for version in reversed([v for v in layout.published() if v < current]):
        try:
            manifest = load_manifest(layout.version_dir(version) / MANIFEST)
        except RagError:
            continue
        return f" (version {version} registered: {', '.join(manifest.locations) or 'nothing'})"
    return ""


def _leftovers(layout: IndexLayout, current: int) -> list[str]:
    found = [str(p) for p in sorted(layout.versions.glob(".build-*"))]
    found += [str(layout.version_dir(v)) for v in layout.published() if v > current]
    return found


def _inspect(layout: IndexLayout, token: str) -> tuple[CheckReport, _Parts]:
    version = layout.require_current()
    folder = layout.version_dir(version)
    if not folder.is_dir():
        parts = _Parts(
            problems=[
                CheckProblem(
                    part="layout",
                    message=f"CURRENT names version {version} but {folder} does not exist",
                )
            ]
        )
        counts: dict[str, int] = {}
    else:
        parts, counts = _read(folder, layout.root, token)
        _compare(parts, counts)
    report = CheckReport(
        index_dir=str(layout.root),
        version=version,
        ok=not parts.problems,
        counts=counts,
        problems=parts.problems,
        leftovers=_leftovers(layout, version),
    )
    return report, parts


def check_index(settings: Settings) -> CheckReport:
    """Compare the current version's SQLite, vectors, BM25 and manifest; change nothing."""
    report, parts = _inspect(IndexLayout(settings.index_dir), token_of(settings))
    parts.close()
    return report


def repair_index(
    settings: Settings, embedder: Embedder | None = None, reporter: Reporter | None = None
) -> CheckReport:
    """Check, and if anything disagrees publish a repaired version (see the module docstring);
    returns the check of what is current afterwards."""
    reporter = reporter or Silent()
    layout = IndexLayout(settings.index_dir)
    with layout.write_lock():  # also clears what dead builds left
        report, parts = _inspect(layout, token_of(settings))
        manifest_readable = parts.manifest is not None
        try:
            if report.ok:
                publish_done(settings, layout)  # versions a dead build left unpublished
                return report.model_copy(update={"leftovers": _leftovers(layout, report.version)})
            if parts.meta is not None and parts.manifest is not None:
                check_same_store(settings, parts.manifest.vectors, layout.root)
                kept, embedded = _rebuild_from_sqlite(layout, parts, settings, embedder, reporter)
                after = check_index(settings)
                return after.model_copy(
                    update={
                        "repaired_from": report.version,
                        "re_embedded": embedded,
                        "kept_vectors": kept,
                    }
                )
        finally:
            parts.close()
    # SQLite or the manifest is gone: everything comes again from the registered locations,
    # which only the manifest records. (Builder takes the lock itself.)
    if manifest_readable:
        build = Builder(settings, embedder, reporter).run(full=True)
    else:
        raise IndexCorruptError(
            f"the manifest of version {report.version} is unreadable, so which locations were "
            f"registered is unknown{_older_locations(layout, report.version)}; move "
            f"{layout.root} aside and add the locations again with `rag index add PATH ...`"
        )
    after = check_index(settings)
    return after.model_copy(
        update={"repaired_from": report.version, "re_embedded": build.passages.embedded}
    )


def _rebuild_from_sqlite(
    layout: IndexLayout,
    parts: _Parts,
    settings: Settings,
    embedder: Embedder | None,
    reporter: Reporter,
) -> tuple[int, int]:
    """Publish a version from SQLite: sound vectors kept, the rest re-embedded. Returns
    (vectors kept, passages embedded)."""
    assert parts.meta is not None and parts.manifest is not None
    manifest = parts.manifest
    build_dir = layout.new_build_dir()
    try:
        meta = MetaDB.create(build_dir / META_FILE, copy_from=parts.meta)
        meta.conn.execute("DELETE FROM passages WHERE source_id NOT IN (SELECT id FROM sources)")
        meta.commit()
        wanted = set(meta.all_vec_ids())
        version = layout.next_version()
        store = start_vectors(
            settings, layout.root, None, manifest.embedding.dimension, version, len(wanted)
        )
        kept = _sound_vectors(parts, wanted, manifest.embedding.dimension)
        if kept is not None:
            store.add(kept[1], kept[0])
        have = set(kept[0].tolist()) if kept is not None else set()
        todo = sorted(wanted - have)
        if todo:
            model = embedder or load_embedder(settings)
            built = manifest.embedding
            if model.model_id != built.model_id or model.dimension != built.dimension:
                raise IndexMismatchError(
                    f"the index was built with {built.model_id!r} (dimension {built.dimension}) "
                    f"but the settings load {model.model_id!r}; set RAG_EMBED_MODEL="
                    f"{built.model_id} to repair it, or rebuild with `rag index rebuild --full`"
                )
            texts = _texts_of(meta, todo, built.embed_titles)
            store.add(embed_in_blocks(model, texts, reporter), todo)
        lexical = LexicalIndex.build(
            meta.iter_lexical(), with_titles=manifest.embedding.embed_titles
        )
        n_sources, n_passages = meta.count("sources"), meta.count("passages")
        meta.close()
        probes = question_vectors(
            build_dir / META_FILE, lambda: embedder or load_embedder(settings)
        )
        store, vector_info = finish_vectors(settings, store, None, build_dir, reporter, probes)
        lexical.save(build_dir)
        manifest.model_copy(
            update={
                "version": version,
                "vectors": vector_info,
                "sources": n_sources,
                "passages": n_passages,
            }
        ).write(build_dir / MANIFEST)
        layout.publish(build_dir, version)
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    publish_done(settings, layout)
    return len(have), len(todo)


def _sound_vectors(parts: _Parts, wanted: set[int], dimension: int) -> tuple[Any, Any] | None:
    """(ids, matrix) of the stored vectors worth keeping: wanted, unique, finite, unit length."""
    if parts.vectors is None or parts.stored is None or parts.vectors.dimension != dimension:
        return None
    ids, matrix = parts.stored
    good = _sound(matrix)
    good &= np.isin(ids, np.fromiter(wanted, dtype=np.int64, count=len(wanted)))
    _, first = np.unique(ids, return_index=True)
    unique = np.zeros(len(ids), dtype=bool)
    unique[first] = True
    good &= unique
    return ids[good], matrix[good]


def _texts_of(meta: MetaDB, vec_ids: list[int], with_titles: bool) -> list[str]:
    rows = meta.passages_by_vec_ids(vec_ids)
    return [titled(rows[v].passage.title, rows[v].passage.text, with_titles) for v in vec_ids]
