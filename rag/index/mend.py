"""Mend: publish a mended version of an index whose parts disagree (verify.py finds them).

SQLite is the source of truth (it holds every source's text and every passage): mending keeps
the vectors that are present and sound, re-embeds the passages whose vectors are missing or
broken, rebuilds BM25 from SQLite and publishes the result as a new version, so readers switch
to it atomically like after any build. Without a readable SQLite or manifest the only mend is
a full rebuild from the registered locations.
"""

from __future__ import annotations

import shutil
from typing import Any

import numpy as np

from rag.config import Settings
from rag.embed import Embedder, embed_in_blocks
from rag.embed.encoder import load_embedder
from rag.errors import IndexMismatchError
from rag.index.build import Builder
from rag.index.probes import question_vectors
from rag.index.verify import (
    VerifyReport,
    VersionParts,
    inspect_version,
    leftovers,
    lost_manifest,
    sound_rows,
    verify_index,
)
from rag.ingest.chunk import embed_text
from rag.progress import Reporter, Silent
from rag.store import META_FILE, IndexLayout
from rag.store.backends import check_same_store, finish_vectors, publish_done, start_vectors
from rag.store.layout import MANIFEST
from rag.store.lexical import LexicalIndex
from rag.store.manifest import Manifest
from rag.store.meta import MetaDB


def mend_index(
    settings: Settings, embedder: Embedder | None = None, reporter: Reporter | None = None
) -> VerifyReport:
    """Verify, and if anything disagrees publish a mended version (see the module docstring);
    returns the check of what is current afterwards."""
    reporter = reporter or Silent()
    layout = IndexLayout(settings.index.dir)
    with layout.write_lock():  # also clears what dead builds left
        report, parts = inspect_version(layout, settings.store.token)
        manifest_readable = parts.manifest is not None
        try:
            if report.ok:
                publish_done(settings, layout)  # versions a dead build left unpublished
                return report.model_copy(update={"leftovers": leftovers(layout, report.version)})
            if parts.meta is not None and parts.manifest is not None:
                check_same_store(settings, parts.manifest.vectors, layout.root)
                kept, embedded = _rebuild_from_sqlite(layout, parts, settings, embedder, reporter)
                after = verify_index(settings)
                return after.model_copy(
                    update={
                        "mended_from": report.version,
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
        raise lost_manifest(layout, report.version)
    after = verify_index(settings)
    return after.model_copy(
        update={"mended_from": report.version, "re_embedded": build.passages.embedded}
    )


def _index_model(manifest: Manifest, model: Embedder) -> Embedder:
    """`model`, if it is the one the index was built with: passages and question probes must
    be encoded in the index's vector space."""
    built = manifest.embedding
    if model.model_id != built.model_id or model.dimension != built.dimension:
        raise IndexMismatchError(
            f"the index was built with {built.model_id!r} (dimension {built.dimension}) "
            f"but the settings load {model.model_id!r}; set RAG_EMBED_MODEL="
            f"{built.model_id} to mend it, or rebuild with `rag index rebuild --full`"
        )
    return model


def _rebuild_from_sqlite(
    layout: IndexLayout,
    parts: VersionParts,
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

        def model() -> Embedder:
            return _index_model(manifest, embedder or load_embedder(settings))

        if todo:
            texts = _texts_of(meta, todo, manifest.embedding.embed_titles)
            store.add(embed_in_blocks(model(), texts, reporter), todo)
        lexical = LexicalIndex.build(meta.iter_lexical(), with_titles=manifest.bm25_titles)
        n_sources, n_passages = meta.count("sources"), meta.count("passages")
        meta.close()
        probes = question_vectors(build_dir / META_FILE, model)  # the index's model, as above
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


def _sound_vectors(parts: VersionParts, wanted: set[int], dimension: int) -> tuple[Any, Any] | None:
    """(ids, matrix) of the stored vectors worth keeping: wanted, unique, finite, unit length."""
    if parts.vectors is None or parts.stored is None or parts.vectors.dimension != dimension:
        return None
    ids, matrix = parts.stored
    good = sound_rows(matrix)
    good &= np.isin(ids, np.fromiter(wanted, dtype=np.int64, count=len(wanted)))
    _, first = np.unique(ids, return_index=True)
    unique = np.zeros(len(ids), dtype=bool)
    unique[first] = True
    good &= unique
    return ids[good], matrix[good]


def _texts_of(meta: MetaDB, vec_ids: list[int], with_titles: bool) -> list[str]:
    rows = meta.passages_by_vec_ids(vec_ids)
    return [embed_text(rows[v].passage, with_titles) for v in vec_ids]
