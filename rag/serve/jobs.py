"""Background index builds for the server: one at a time, in order, with progress to report."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from rag.config import Settings
from rag.embed import Embedder
from rag.errors import Cancelled, RagError
from rag.index.build import build_index
from rag.progress import Tick
from rag.serve.schemas import Job, JobKind

log = logging.getLogger("rag.serve")
_KEEP = 20


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class _Request:
    job_id: int
    add: tuple[str, ...]
    remove: tuple[str, ...]
    full: bool


class _JobReporter:
    """A build's progress, written into its job for `GET /index` to read."""

    def __init__(self, jobs: BuildJobs, job_id: int) -> None:
        self.jobs = jobs
        self.job_id = job_id

    @contextlib.contextmanager
    def task(self, description: str, total: int) -> Iterator[Tick]:
        self.jobs._update(self.job_id, task=description, done=0, total=total)
        done = [0]

        def tick(n: int = 1) -> None:
            if self.jobs.stopping.is_set():
                # A safe point: the build is abandoned whole, and the served version stays.
                raise Cancelled("the server stopped; the build was abandoned, run it again")
            done[0] += n
            self.jobs._update(self.job_id, done=done[0])

        yield tick

    def note(self, text: str) -> None:
        self.jobs._update(self.job_id, task=text)


class BuildJobs:
    """Runs builds on one worker thread, so two never interleave in this process (the index's
    file lock refuses builders in other processes, and the job fails with that message)."""

    def __init__(
        self,
        settings: Settings,
        on_published: Callable[[], None],
        embedder: Callable[[], Embedder | None] = lambda: None,
        on_ended: Callable[[Job], None] = lambda job: None,
    ) -> None:
        """`embedder`: the encoder builds use, asked when a build starts (None: the
        configured one); `on_ended` sees each job that ended, done or failed."""
        self.settings = settings
        self.on_published = on_published
        self.on_ended = on_ended
        self.embedder = embedder
        self._lock = threading.Lock()
        self._jobs: dict[int, Job] = {}
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._idle = threading.Event()
        self._idle.set()
        self.stopping = threading.Event()  # set by close(): the running build stops early
        self._thread: threading.Thread | None = None
        self._next_id = 1

    def submit(
        self,
        kind: JobKind,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        full: bool = False,
    ) -> Job:
        """Queue a build; it starts when the ones before it have finished."""
        with self._lock:
            job = Job(id=self._next_id, kind=kind, state="queued", full=full, submitted_at=_now())
            self._next_id += 1
            self._jobs[job.id] = job
            for old in sorted(self._jobs)[:-_KEEP]:
                if self._jobs[old].state in ("done", "failed"):
                    del self._jobs[old]
            self._idle.clear()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="rag-build", daemon=True)
                self._thread.start()
            self._queue.put(_Request(job.id, tuple(add), tuple(remove), full))
            return job.model_copy(deep=True)

    def recent(self) -> list[Job]:
        """Jobs of this server's life (the last 20 finished ones), newest first."""
        with self._lock:
            return [self._jobs[i].model_copy(deep=True) for i in sorted(self._jobs, reverse=True)]

    def get(self, job_id: int) -> Job | None:
        """One job by number."""
        with self._lock:
            job = self._jobs.get(job_id)
            return job.model_copy(deep=True) if job else None

    @property
    def busy(self) -> bool:
        """A job is queued or running."""
        return not self._idle.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no job is queued or running; False if `timeout` passed first."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        """Stop the running job at its next safe point (between the items of a step: it is
        abandoned, nothing of it published) and the worker; queued jobs are dropped."""
        self.stopping.set()
        with self._lock:
            for job in self._jobs.values():
                if job.state == "queued":
                    job.state, job.error, job.finished_at = "failed", "server stopped", _now()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join()

    def _update(self, job_id: int, **fields: object) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                for name, value in fields.items():
                    setattr(job, name, value)

    def _work(self) -> None:
        while True:
            request = self._queue.get()
            if request is None:
                return
            with self._lock:
                job = self._jobs.get(request.job_id)
                skip = job is None or job.state != "queued"
            if not skip:
                self._run(request)
            with self._lock:
                if self._queue.empty():
                    self._idle.set()

    def _run(self, request: _Request) -> None:
        try:
            self._build(request)
        finally:
            ended = self.get(request.job_id)
            if ended is not None:
                self.on_ended(ended)

    def _build(self, request: _Request) -> None:
        self._update(request.job_id, state="running", started_at=_now())
        try:
            report = build_index(
                self.settings,
                add=request.add,
                remove=request.remove,
                full=request.full,
                embedder=self.embedder(),
                reporter=_JobReporter(self, request.job_id),
            )
        except RagError as exc:
            self._update(request.job_id, state="failed", error=str(exc), finished_at=_now())
            return
        except Exception as exc:  # a job must never take the worker thread down with it
            log.exception("index job %s failed", request.job_id)
            self._update(
                request.job_id,
                state="failed",
                error=f"internal error ({type(exc).__name__}); the server log has the details",
                finished_at=_now(),
            )
            return
        self._update(request.job_id, state="done", report=report, finished_at=_now(), task=None)
        try:
            self.on_published()
        except Exception:  # the next request retries the switch
            log.exception("could not open index version %s", report.version)
