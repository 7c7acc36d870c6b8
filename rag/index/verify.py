"""Verify: do SQLite, the vectors (FAISS or Milvus), BM25 and the manifest of the current version
agree? What disagrees is reported part by part; mend.py mends it."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from rag.config import Settings
from rag.errors import IndexCorruptError, RagError
from rag.store import META_FILE, IndexLayout
from rag.store.backends import (
    Vectors,
    open_vectors,
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


class VersionProblem(Contract):
    """One way the parts of a version disagree or are broken."""

    part: Part = Field(description="Which part of the version is wrong.")
    message: str = Field(description="What is wrong, with a few of the ids involved.")


class VerifyReport(Contract):
    """`rag index verify --json`."""

    index_dir: str = Field(description="Index folder.")
    version: int = Field(description="The version checked (after mending: the new one).")
    ok: bool = Field(description="True when every part agrees and nothing is broken.")
    counts: dict[str, int] = Field(
        description="Passages in SQLite, the vectors (FAISS or Milvus), BM25, the manifest."
    )
    problems: list[VersionProblem] = Field(description="What disagrees (empty when ok).")
    leftovers: list[str] = Field(
        description="Folders left by builds that died; harmless, removed by the next build."
    )
    mended_from: int | None = Field(
        None, description="The broken version a mend replaced, if one ran."
    )
    re_embedded: int = Field(0, description="Passages the mend had to embed again.")
    kept_vectors: int = Field(0, description="Vectors the mend carried over unchanged.")


@dataclass
class VersionParts:
    """What could be read of one version, and what could not."""

    manifest: Manifest | None = None
    meta: MetaDB | None = None
    vectors: Vectors | None = None
    vector_part: Part = "FAISS"
    # Every stored id and vector, copied out once (checked here, reused by a mend).
    stored: tuple[np.ndarray, np.ndarray] | None = None
    lexical: LexicalIndex | None = None
    sql_ids: set[int] = field(default_factory=set)
    problems: list[VersionProblem] = field(default_factory=list)

    def close(self) -> None:
        if self.meta is not None:
            self.meta.close()


def _few(ids: set[int]) -> str:
    shown = ", ".join(str(i) for i in sorted(ids)[:_SHOWN])
    return shown + (f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else "")


def _read(folder: Path, root: Path, token: str) -> tuple[VersionParts, dict[str, int]]:
    parts = VersionParts()
    counts: dict[str, int] = {}
    add = parts.problems.append
    try:
        parts.manifest = load_manifest(folder / MANIFEST)
        counts["manifest"] = parts.manifest.passages
    except RagError as exc:
        add(VersionProblem(part="manifest", message=str(exc)))
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
            add(VersionProblem(part="SQLite", message=f"{orphans} passage(s) of no known source"))
    except sqlite3.DatabaseError as exc:
        add(VersionProblem(part="SQLite", message=f"cannot read the metadata: {exc}"))
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
        add(VersionProblem(part=parts.vector_part, message=str(exc)))
    try:
        parts.lexical = LexicalIndex.load(folder)
    except RagError as exc:
        add(VersionProblem(part="BM25", message=str(exc)))
    return parts, counts


def _compare(parts: VersionParts, counts: dict[str, int]) -> None:
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
            add(VersionProblem(part=name, message=f"{len(ids) - len(unique)} duplicate id(s)"))
        if parts.meta is None:
            continue
        missing, extra = parts.sql_ids - unique, unique - parts.sql_ids
        if missing:
            add(
                VersionProblem(
                    part=name,
                    message=f"{len(missing)} passage(s) in SQLite are missing: {_few(missing)}",
                )
            )
        if extra:
            add(
                VersionProblem(
                    part=name,
                    message=f"{len(extra)} id(s) belong to no passage in SQLite: {_few(extra)}",
                )
            )
    if parts.stored is not None:
        stored, matrix = parts.stored
        bad = {int(i) for i in stored[~sound_rows(matrix)]}
        if bad:
            add(
                VersionProblem(
                    part=parts.vector_part,
                    message=f"{len(bad)} vector(s) not unit length or not finite: {_few(bad)}",
                )
            )
    manifest = parts.manifest
    if manifest is None:
        return
    if parts.vectors is not None and parts.vectors.dimension != manifest.embedding.dimension:
        add(
            VersionProblem(
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
                    VersionProblem(
                        part="manifest", message=f"records {recorded} {what}, SQLite has {found}"
                    )
                )
    if (
        parts.stored is not None
        and "count" in manifest.vectors.model_fields_set
        and manifest.vectors.count != len(parts.stored[0])
    ):
        add(
            VersionProblem(
                part="manifest",
                message=f"records {manifest.vectors.count} vectors, {parts.vector_part} has "
                f"{len(parts.stored[0])}",
            )
        )


def sound_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows that are finite and unit length (a normalized index has no others)."""
    with np.errstate(all="ignore"):
        norms = np.linalg.norm(matrix, axis=1)
    sound: np.ndarray = np.isfinite(norms) & (np.abs(norms - 1.0) <= _NORM_TOLERANCE)
    return sound


def lost_manifest(layout: IndexLayout, version: int) -> IndexCorruptError:
    """The error for a current version whose manifest cannot be read: nothing can rebuild or
    mend it (only the manifest records the registered locations), so the advice is to start
    again, with what an older version registered where one can be read."""
    return IndexCorruptError(
        f"the manifest of version {version} is unreadable, so which locations were registered "
        f"is unknown{older_locations(layout, version)}; move {layout.root} aside and add the "
        "locations again with `rag index add PATH ...`"
    )


def older_locations(layout: IndexLayout, current: int) -> str:
    """' (version N registered: a, b)' from the newest older manifest that reads, if any."""
    for version in reversed([v for v in layout.published() if v < current]):
        try:
            manifest = load_manifest(layout.version_dir(version) / MANIFEST)
        except RagError:
            continue
        return f" (version {version} registered: {', '.join(manifest.locations) or 'nothing'})"
    return ""


def leftovers(layout: IndexLayout, current: int) -> list[str]:
    found = [str(p) for p in sorted(layout.versions.glob(".build-*"))]
    found += [str(layout.version_dir(v)) for v in layout.published() if v > current]
    return found


def inspect_version(layout: IndexLayout, token: str) -> tuple[VerifyReport, VersionParts]:
    version = layout.require_current()
    folder = layout.version_dir(version)
    if not folder.is_dir():
        parts = VersionParts(
            problems=[
                VersionProblem(
                    part="layout",
                    message=f"CURRENT names version {version} but {folder} does not exist",
                )
            ]
        )
        counts: dict[str, int] = {}
    else:
        parts, counts = _read(folder, layout.root, token)
        _compare(parts, counts)
    report = VerifyReport(
        index_dir=str(layout.root),
        version=version,
        ok=not parts.problems,
        counts=counts,
        problems=parts.problems,
        leftovers=leftovers(layout, version),
    )
    return report, parts


def verify_index(settings: Settings) -> VerifyReport:
    """Compare the current version's SQLite, vectors, BM25 and manifest; change nothing."""
    report, parts = inspect_version(IndexLayout(settings.index.dir), settings.store.token)
    parts.close()
    return report
