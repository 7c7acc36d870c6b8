"""The long-lived service behind `rag serve`: models loaded once, the served index version
switched when a newer one is published, uploads and deletions turned into background builds."""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path
from typing import Literal

from rag.answer.answerer import Answerer, open_validator
from rag.answer.section import OnSection
from rag.answer.turn import OnProgress
from rag.check.checker import OnClaim, TextChecker
from rag.config import Settings
from rag.embed import Embedder, LockedEmbedder
from rag.embed.encoder import load_embedder
from rag.embed.models import expected_model_id
from rag.errors import (
    ConfigError,
    IndexNotFoundError,
    IngestError,
    RagError,
    SourceNotFoundError,
)
from rag.ingest import readers
from rag.ingest.web import check_url
from rag.llm.model import ModelFactory, OnToken
from rag.llm.providers import open_model
from rag.retrieve.decompose import Decomposer
from rag.retrieve.search import Searcher
from rag.serve.jobs import BuildJobs
from rag.serve.metrics import Metrics
from rag.serve.paths import keep_uploads, shown_check, shown_path
from rag.serve.schemas import (
    Health,
    IndexState,
    Job,
    SearchResponse,
    SourceDetail,
    SourceList,
    SourceSummary,
    UploadResult,
)
from rag.store import IndexLayout, IndexReader
from rag.types import Answer, Source, TextCheck
from rag.validate.validator import Validator

log = logging.getLogger("rag.serve")
UPLOADS = "uploads"


class Service:
    """What the HTTP layer calls; every method raises library errors, never HTTP ones."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        models: ModelFactory = open_model,
    ) -> None:
        """`embedder`: the encoder (default: the configured one, loaded at start); `models`:
        model string -> chat model, for the answering models and the judge."""
        self.settings = settings
        self.layout = IndexLayout(settings.index.dir)
        self._given_embedder = embedder
        self.embedder: LockedEmbedder | None = None
        self.open_model = models
        self.validator: Validator | None = None
        self._answerers: dict[str, Answerer] = {}
        self._answerers_lock = threading.Lock()
        self._searcher: Searcher | None = None
        self._swap = threading.Lock()
        self._failed_version: int | None = None
        self.problem: str | None = None
        self.ready = False
        self.metrics = Metrics()
        self.jobs = BuildJobs(
            settings,
            on_published=self.refresh,
            embedder=self._builds_encoder,
            on_ended=self.metrics.job,
        )
        self.metrics.serve(self.health, lambda: self.jobs.busy)

    # -- life ------------------------------------------------------------------------------
    def start(self) -> None:
        """Load the encoder and the answering model and open the index, before serving."""
        self.embedder = LockedEmbedder(self._given_embedder or load_embedder(self.settings))
        self.validator = open_validator(self.settings, self.embedder, self.open_model)
        self.answerer(self.settings.llm.model)
        try:
            self.refresh()
        except IndexNotFoundError:
            log.warning("no index at %s yet; upload sources to build one", self.layout.root)
        self._index_stranded_uploads()
        self.ready = True

    def _index_stranded_uploads(self) -> None:
        """Uploads kept before the server died and whose build never published (the upload
        folder is not registered yet) are indexed now, not left on disk unseen."""
        kept = [p for p in self.uploads.glob("*") if not p.name.startswith(".")]
        for staged in self.uploads.glob(".upload-*"):
            staged.unlink(missing_ok=True)  # half-saved when the server died: never indexed
        served = self._searcher
        registered = served.reader.manifest.locations if served is not None else []
        if kept and str(self.uploads.resolve()) not in registered:
            log.warning("indexing %d upload(s) whose build did not finish", len(kept))
            self.jobs.submit("upload", add=[str(self.uploads)])

    def _builds_encoder(self) -> Embedder | None:
        # The encoder the service was given, or None: the build loads the configured one
        # (load_embedder keeps one per process, so the served encoder, outside its lock).
        return self._given_embedder

    def answerer(self, model: str) -> Answerer:
        """The answerer of an offered model, made (and the model loaded) on first use."""
        if self.validator is None:
            raise RagError("the service was not started; call start() first")
        with self._answerers_lock:
            if model not in self._answerers:
                chat = self.open_model(model, self.settings)
                self._answerers[model] = Answerer(self.settings.answer, None, chat, self.validator)
            return self._answerers[model]

    def close(self) -> None:
        """Finish the running build and release the index."""
        self.jobs.close()

    # -- the served version ----------------------------------------------------------------
    def refresh(self) -> None:
        """Serve the newest published version, if it is not served already."""
        self.searcher(wait=True)

    def searcher(self, wait: bool = False) -> Searcher:
        """The searcher of the newest published version that opens cleanly. A request that
        arrives while another thread opens a new version is answered from the old one."""
        current = self.layout.require_current()
        served = self._searcher
        if served is not None and (
            served.reader.version == current or current == self._failed_version
        ):
            return served
        if served is not None and not wait:
            if not self._swap.acquire(blocking=False):
                return served
        else:
            self._swap.acquire()
        try:
            served = self._searcher
            if served is None or served.reader.version != current:
                served = self._open(served, current)
            return served
        finally:
            self._swap.release()

    def _open(self, served: Searcher | None, current: int) -> Searcher:
        if self.embedder is None:
            raise RagError("the service was not started; call start() first")
        try:
            reader = IndexReader.open(self.settings.index.dir, self.settings.store.token)
            decomposer = None
            if self.settings.search.decompose:
                decomposer = Decomposer(self.open_model(self.settings.llm.model, self.settings))
            searcher = Searcher(reader, self.settings.search, self.embedder, decomposer)
        except RagError as exc:
            if served is None:
                raise
            # Keep answering from the version that works; say why in /healthz.
            self._failed_version = current
            self.problem = str(exc)
            log.error("keeping index version %s: %s", served.reader.version, exc)
            return served
        self._searcher, self._failed_version, self.problem = searcher, None, None
        # The old reader is not closed: requests may still hold it. Its SQLite connection
        # closes when the last of them lets it go.
        log.info("serving index version %s", reader.version)
        return searcher

    # -- reading ---------------------------------------------------------------------------
    def search(self, query: str, k: int) -> SearchResponse:
        """The k best passages for `query`."""
        searcher = self.searcher()
        places = searcher.reader.manifest.locations
        hits = [shown_path(h, places) for h in searcher.search(query, k=k)]
        return SearchResponse(
            query=query.strip(), k=k, index_version=searcher.reader.version, hits=hits
        )

    @property
    def models(self) -> list[str]:
        """Models a client may ask for, the default first."""
        return list(dict.fromkeys([self.settings.llm.model, *self.settings.serve.models]))

    def ask(
        self,
        question: str,
        k: int | None = None,
        model: str | None = None,
        on_token: OnToken | None = None,
        on_progress: OnProgress | None = None,
        on_section: OnSection | None = None,
    ) -> Answer:
        """A validated answer from the served version."""
        if model is not None and model not in self.models:
            raise ConfigError(
                f"model {model!r} is not offered by this server; choose one of {self.models} "
                "(the operator adds more with RAG_SERVER_MODELS)"
            )
        answerer = self.answerer(model or self.settings.llm.model)
        searcher = self.searcher()
        answer = answerer.ask(
            question,
            k=k,
            on_token=on_token,
            on_progress=on_progress,
            searcher=searcher,
            on_section=on_section,
        )
        self.metrics.answer(answer)
        places = searcher.reader.manifest.locations
        return answer.model_copy(
            update={
                "hits": [shown_path(h, places) for h in answer.hits],
                "citations": [shown_path(c, places) for c in answer.citations],
            }
        )

    def check(self, text: str, on_claim: OnClaim | None = None) -> TextCheck:
        """`text` checked claim by claim against the served version."""
        if self.validator is None:
            raise RagError("the service was not started; call start() first")
        searcher = self.searcher()
        report = TextChecker(self.settings.check, searcher, self.validator).check(text, on_claim)
        self.metrics.checks.inc()
        return shown_check(report, searcher.reader.manifest.locations)

    def sources(self, offset: int, limit: int) -> SourceList:
        """One page of the served version's sources."""
        reader = self.searcher().reader
        rows = reader.meta.source_page(offset, limit)
        return SourceList(
            index_version=reader.version,
            total=reader.manifest.sources,
            offset=offset,
            limit=limit,
            sources=[SourceSummary.model_validate(row) for row in rows],
        )

    def source(self, source_id: str) -> SourceDetail:
        """A source with its passages, or SourceNotFoundError."""
        reader, found = self._source(source_id)
        return SourceDetail(
            index_version=reader.version,
            id=found.id,
            title=found.title,
            url=found.url,
            date=found.date,
            passages=reader.meta.passages_of_source(source_id),
        )

    def _source(self, source_id: str) -> tuple[IndexReader, Source]:
        reader = self.searcher().reader
        found = reader.meta.source(source_id)
        if found is None:
            raise SourceNotFoundError(
                f"no source {source_id!r} in index version {reader.version}; "
                "GET /sources lists the ids"
            )
        return reader, found

    def health(self) -> Health:
        """Readiness and what is served."""
        searcher = self._searcher
        if self.ready:
            with contextlib.suppress(RagError):  # no index yet, or the new one fails to open
                searcher = self.searcher()
        manifest = searcher.reader.manifest if searcher else None
        state: Literal["ok", "no_index", "starting"] = (
            "starting" if not self.ready else ("ok" if searcher else "no_index")
        )
        return Health(
            state=state,
            ready=self.ready and searcher is not None,
            index_dir=str(self.layout.root),
            index_version=searcher.reader.version if searcher else None,
            sources=manifest.sources if manifest else 0,
            passages=manifest.passages if manifest else 0,
            embed_model=manifest.embedding.model_id
            if manifest
            else expected_model_id(self.settings.embed),
            llm_model=self.settings.llm.model,
            models=self.models,
            validate_mode=self.settings.validator.mode,
            admin=self.settings.serve.admin_token is not None,
            problem=self.problem,
        )

    def index_state(self) -> IndexState:
        """The served version and the recent jobs."""
        health = self.health()
        return IndexState(
            index_version=health.index_version,
            sources=health.sources,
            passages=health.passages,
            building=self.jobs.busy,
            jobs=self.jobs.recent(),
        )

    # -- changing the index ------------------------------------------------------------------
    @property
    def uploads(self) -> Path:
        """Folder inside the index folder that keeps uploaded files."""
        return self.layout.root / UPLOADS

    def upload(self, files: list[tuple[str, bytes]]) -> UploadResult:
        """Check and keep uploaded files, then queue a build that indexes them. A file nothing
        can be read from is refused and not kept; bad lines of a JSONL file are listed."""
        if not files:
            raise ConfigError("no files in the upload; send them as multipart field 'files'")
        if self.uploads.is_symlink():
            # Files are written only inside the index folder, never where a link leads.
            raise ConfigError(
                f"{self.uploads} is a link; uploads are only written inside the index folder: "
                "replace the link with a plain folder"
            )
        saved, sources, skipped = keep_uploads(
            self.uploads, files, int(self.settings.index.max_file_mb * 1_000_000)
        )
        job = self.jobs.submit("upload", add=[str(self.uploads)])
        return UploadResult(saved=saved, sources=sources, skipped=skipped, job=job)

    def add_web(self, url: str) -> Job:
        """Queue a build that registers a page or feed address and fetches it."""
        try:
            check_url(url)
        except IngestError as exc:
            raise ConfigError(f"{url}: {exc.reason}") from exc
        return self.jobs.submit("web", add=[url])

    def delete_source(self, source_id: str) -> Job:
        """Queue a build without this source: an uploaded file of its own is deleted; any other
        source is excluded by id (as `rag index remove ID` does)."""
        _, found = self._source(source_id)
        path = Path(found.path) if found.path else None
        own_file = (
            path is not None
            and path.parent == self.uploads
            and path.suffix.lower() not in readers.JSONL_SUFFIXES
        )
        if own_file and path is not None:
            path.unlink(missing_ok=True)
            return self.jobs.submit("delete")
        return self.jobs.submit("delete", remove=[source_id])

    def rebuild(self, full: bool) -> Job:
        """Queue a rescan of every registered location (`full`: re-embed everything)."""
        self.layout.require_current()
        return self.jobs.submit("rebuild", full=full)
