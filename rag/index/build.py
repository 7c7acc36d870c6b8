"""Build: registered locations -> a new published index version, re-embedding only what changed."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.embed import Embedder
from rag.embed.encoder import load_embedder
from rag.embed.models import expected_model_id
from rag.errors import (
    ConfigError,
    DiskFullError,
    IndexCorruptError,
    IndexMismatchError,
    RagError,
    out_of_space,
)
from rag.index.fetch import fetch_web
from rag.index.probes import question_vectors
from rag.index.reuse import vectors_for
from rag.index.scan import Plan, Scan, plan, scan_locations
from rag.index.verify import lost_manifest
from rag.ingest.chunk import ChunkSpec, chunk_source, embed_text, vector_id
from rag.ingest.files import unusable_location
from rag.ingest.web import is_url
from rag.progress import Reporter, Silent, checkpoint
from rag.store import META_FILE, IndexLayout, IndexReader
from rag.store.backends import (
    check_same_store,
    finish_vectors,
    publish_done,
    start_vectors,
)
from rag.store.lexical import LexicalIndex
from rag.store.manifest import (
    ChunkingInfo,
    EmbeddingInfo,
    Manifest,
    read_raw,
)
from rag.store.meta import MetaDB
from rag.store.samples import Changes
from rag.text import titled
from rag.types import (
    BuildReport,
    Passage,
    PassageCounts,
    sha256_hex,
)


def chunking_info(settings: Settings) -> ChunkingInfo:
    """The manifest record of the settings' chunking."""
    return ChunkingInfo.model_validate(asdict(ChunkSpec.of(settings.chunk)))


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


class Builder:
    """One build under the index's write lock; `run` publishes and returns the report."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        reporter: Reporter | None = None,
    ) -> None:
        self.settings = settings
        self.layout = IndexLayout(settings.index.dir)
        self._embedder = embedder
        self.reporter = reporter or Silent()

    @property
    def embedder(self) -> Embedder:
        """The encoder, loaded only when something must be embedded."""
        if self._embedder is None:
            with self.reporter.task("loading embedding model", 1) as tick:
                self._embedder = load_embedder(self.settings)
                tick()
        return self._embedder

    def run(
        self, add: Sequence[str] = (), remove: Sequence[str] = (), full: bool = False
    ) -> BuildReport:
        """Register `add`, drop `remove` (locations or source ids), rescan, publish."""
        started = time.perf_counter()
        if not add:
            self.layout.require_current()  # only `add` makes an index: a typo makes nothing
        for given in add:
            problem = unusable_location(given)
            if problem:
                raise ConfigError(problem)
        made = not self.layout.root.exists()
        try:
            with self.layout.write_lock():
                prev, locations, excluded = self._previous(full)
                try:
                    report = self._run(prev, locations, excluded, add, remove, full, started)
                finally:
                    if prev is not None:
                        prev.close()
        except BaseException as exc:
            if made:  # a first build that failed leaves no folder behind
                shutil.rmtree(self.layout.root, ignore_errors=True)
            if out_of_space(exc):
                served = self.layout.current_version()
                raise DiskFullError(
                    f"no space left on the disk holding {self.layout.root} ({exc}); the build "
                    "was abandoned and its files removed"
                    + (f", version {served} is still served" if served else "")
                    + "; free space there (or set RAG_INDEX_DIR to a larger disk) and run the "
                    "command again"
                ) from exc
            raise
        return report

    # -- steps -----------------------------------------------------------------------------
    def _previous(self, full: bool) -> tuple[IndexReader | None, list[str], set[str]]:
        if self.layout.current_version() is None:
            return None, [], set()
        try:
            prev = IndexReader.open(self.layout.root, self.settings.store.token)
        except (IndexMismatchError, IndexCorruptError):
            if not full:
                raise
            # A full rebuild only needs to know what was registered.
            current = self.layout.require_current()
            try:
                raw = read_raw(self.layout.version_dir(current) / "manifest.json")
            except IndexCorruptError as exc:
                raise lost_manifest(self.layout, current) from exc
            locations = [str(p) for p in _as_list(raw.get("locations"))]
            excluded = {str(p) for p in _as_list(raw.get("excluded"))}
            return None, locations, excluded
        if not full:
            self._check_compatible(prev.manifest)
        return prev, list(prev.manifest.locations), set(prev.manifest.excluded)

    def _check_compatible(self, manifest: Manifest) -> None:
        check_same_store(self.settings, manifest.vectors, self.layout.root)
        model = (
            self._embedder.model_id if self._embedder else expected_model_id(self.settings.embed)
        )
        built = manifest.embedding
        if built.model_id != model or built.embed_titles != self.settings.embed.titles:
            raise IndexMismatchError(
                f"index at {self.layout.root} was built with model {built.model_id!r} "
                f"(titles embedded: {built.embed_titles}); the settings ask for {model!r} "
                f"(titles embedded: {self.settings.embed.titles}); re-embed everything with "
                "`rag index rebuild --full`, or change the settings back"
            )
        if manifest.chunking != chunking_info(self.settings):
            raise IndexMismatchError(
                f"index at {self.layout.root} was chunked with {manifest.chunking.model_dump()}; "
                f"the settings ask for {chunking_info(self.settings).model_dump()}; "
                "re-chunk with `rag index rebuild --full`, or change the settings back"
            )

    def _run(
        self,
        prev: IndexReader | None,
        locations: list[str],
        excluded: set[str],
        add: Sequence[str],
        remove: Sequence[str],
        full: bool,
        started: float,
    ) -> BuildReport:
        registered_before = (list(locations), set(excluded))
        base = prev if not full else None  # the version this build extends, if any
        added_roots = self._register(locations, add)
        self._unregister(prev, locations, excluded, remove)
        local, fetch_failures = fetch_web(
            self.layout.root, self.settings, locations, add, self.reporter
        )
        added_roots = [str(local.get(r, r)) for r in added_roots]
        scan = scan_locations(
            [str(local.get(loc, loc)) for loc in locations if local.get(loc, loc) is not None],
            excluded,
            added_roots,
            base.meta if base is not None else None,
            int(self.settings.index.max_file_mb * 1_000_000),
            self.reporter,
        )
        scan.failures[:0] = fetch_failures
        checkpoint("scanned")
        work = plan(
            scan,
            prev.meta.source_hashes() if prev is not None else {},
            incremental=base is not None,
        )
        same = (locations, excluded) == registered_before and work.nothing_new
        if (
            base is not None
            and same
            and base.manifest.bm25_titles == self.settings.index.bm25_titles
        ):
            return BuildReport(
                version=base.version,
                index_dir=str(self.layout.root),
                full=False,
                sources=work.counts,
                passages=PassageCounts(total=len(base.vectors)),
                seconds=round(time.perf_counter() - started, 3),
            )
        build_dir = self.layout.new_build_dir()
        try:
            return self._write(build_dir, base, scan, work, locations, excluded, full, started)
        except BaseException:
            shutil.rmtree(build_dir, ignore_errors=True)
            raise

    def _register(self, locations: list[str], add: Sequence[str]) -> list[str]:
        roots = []
        for given in add:
            if is_url(given):
                roots.append(given)
                if given not in locations:
                    locations.append(given)
                continue
            path = os.path.abspath(given)
            roots.append(path)
            # Something under a registered folder is indexed already: adding it again only
            # brings back what was removed from it, and registers nothing new.
            covered = any(path.startswith(loc + os.sep) for loc in locations)
            if path not in locations and not covered:
                locations.append(path)
        return roots

    def _unregister(
        self,
        prev: IndexReader | None,
        locations: list[str],
        excluded: set[str],
        remove: Sequence[str],
    ) -> None:
        known = set(prev.meta.source_ids()) if prev is not None else set()
        files = prev.meta.files() if prev is not None else {}
        for item in remove:
            path = item if is_url(item) else os.path.abspath(item)
            if path in locations:
                locations.remove(path)
            elif item in known:
                excluded.add(item)
            elif path in files:
                excluded.update(files[path].source_ids)
            else:
                raise ConfigError(
                    f"{item!r} is neither a registered location, an indexed file nor a source id; "
                    "`rag index info` lists the locations, `rag search` shows source ids"
                )

    def _write(
        self,
        build_dir: Path,
        base: IndexReader | None,
        scan: Scan,
        work: Plan,
        locations: list[str],
        excluded: set[str],
        full: bool,
        started: float,
    ) -> BuildReport:
        with_titles = self.settings.embed.titles
        meta = MetaDB.create(build_dir / META_FILE, copy_from=base.meta if base else None)
        if base is not None:
            dimension, model_id = base.vectors.dimension, base.manifest.embedding.model_id
        else:
            dimension, model_id = self.embedder.dimension, self.embedder.model_id

        spec = ChunkSpec.of(self.settings.chunk)
        bm25_titles = self.settings.index.bm25_titles
        rows: list[tuple[Passage, int, str]] = []
        texts: dict[str, str] = {}
        for sid in work.to_write:
            for passage in chunk_source(scan.read[sid], spec):
                text = embed_text(passage, with_titles)
                digest = sha256_hex(text)
                texts[digest] = text
                rows.append((passage, vector_id(passage.id), digest))
        version = self.layout.next_version()
        vectors = start_vectors(
            self.settings,
            self.layout.root,
            base.vectors if base is not None else None,
            dimension,
            version,
            expected=len(rows),  # sizes a new Milvus collection; a base's is kept
        )

        passages = PassageCounts()
        removed: list[int] = []
        if work.to_delete:
            removed = meta.vec_ids_of_sources(work.to_delete)
            passages.deleted = vectors.remove(removed)
            meta.delete_sources(work.to_delete)
        for sid in work.to_write:
            meta.insert_source(scan.read[sid])
        vector_of = vectors_for(texts, base, passages, lambda: self.embedder, self.reporter)
        added_ids = np.array([v for _, v, _ in rows], dtype=np.int64)
        matrix = np.zeros((0, dimension), dtype=np.float32)
        if rows:
            matrix = np.stack([vector_of[h] for _, _, h in rows]).astype(np.float32)
            vectors.add(matrix, added_ids)
        changes = Changes(np.array(removed, dtype=np.int64), added_ids, matrix)
        try:
            meta.insert_passages(rows)
        except sqlite3.IntegrityError as exc:
            raise RagError(
                f"two passages share an id ({exc}); report this with the sources involved"
            ) from exc
        meta.replace_files(scan.files)
        meta.commit()
        checkpoint("passages written")

        lexical = None
        if base is not None and base.manifest.bm25_titles == bm25_titles:
            added = [(v, titled(p.title, p.text, bm25_titles)) for p, v, _ in rows]
            ids = np.array(meta.all_vec_ids(), dtype=np.int64)
            lexical = LexicalIndex.extend(base.folder, changes.removed, added, ids)
        if lexical is None:
            previous = base.folder if base is not None else None
            lexical = LexicalIndex.build(meta.iter_lexical(), bm25_titles, previous=previous)
        checkpoint("BM25 built")
        passages.total = meta.count("passages")
        n_sources = meta.count("sources")
        meta.close()
        if not passages.total == len(vectors) == len(lexical):
            raise IndexCorruptError(
                "build disagrees on passage counts (SQLite "
                f"{passages.total}, FAISS {len(vectors)}, BM25 {len(lexical)}); "
                "nothing was published"
            )
        vectors, vector_info = finish_vectors(
            self.settings,
            vectors,
            base.manifest.vectors.trained_on if base is not None else None,
            build_dir,
            self.reporter,
            question_vectors(build_dir / META_FILE, lambda: self.embedder),
            (base.folder, changes) if base is not None else None,
        )
        lexical.save(build_dir)
        checkpoint("vectors and BM25 saved")
        report = BuildReport(
            version=version,
            index_dir=str(self.layout.root),
            full=full,
            sources=work.counts,
            passages=passages,
            seconds=round(time.perf_counter() - started, 3),  # the manifest records it too
        )
        Manifest(
            version=version,
            embedding=EmbeddingInfo(
                model_id=model_id, dimension=dimension, embed_titles=with_titles
            ),
            chunking=chunking_info(self.settings),
            vectors=vector_info,
            bm25_titles=bm25_titles,
            locations=locations,
            excluded=sorted(excluded),
            sources=n_sources,
            passages=passages.total,
            last_build=report,
        ).write(build_dir / "manifest.json")
        checkpoint("manifest written")
        self.layout.publish(build_dir, version)
        publish_done(self.settings, self.layout)
        return report


def build_index(
    settings: Settings,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    full: bool = False,
    embedder: Embedder | None = None,
    reporter: Reporter | None = None,
) -> BuildReport:
    """Register `add`, drop `remove`, rescan every location and publish a new version."""
    return Builder(settings, embedder, reporter).run(add=add, remove=remove, full=full)
