"""The index folder on disk: immutable version folders, a CURRENT pointer, a writer lock.

    index/
      CURRENT              name of the published version ("000007")
      versions/000007/     manifest.json, meta.sqlite, vectors.faiss, bm25/
      versions/.build-*/   a version being built (deleted if its builder died)
      .lock                held by the one process that builds

Publishing is write aside, fsync, rename: a reader sees the old version or the new one whole.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from rag.errors import IndexBusyError, IndexNotFoundError
from rag.progress import checkpoint

CURRENT = "CURRENT"
VERSIONS = "versions"
MANIFEST = "manifest.json"
_BUILD_PREFIX = ".build-"


class IndexLayout:
    """Paths and the atomic operations on one index folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.versions = self.root / VERSIONS

    def version_dir(self, version: int) -> Path:
        """Folder of a published version."""
        return self.versions / f"{version:06d}"

    def current_version(self) -> int | None:
        """The published version number, or None if nothing was published yet."""
        try:
            name = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return int(name)

    def require_current(self) -> int:
        """The published version, or an error saying how to make one."""
        version = self.current_version()
        if version is None:
            raise IndexNotFoundError(
                f"no index at {self.root}; create one with `rag index add PATH --index {self.root}`"
            )
        return version

    def published(self) -> list[int]:
        """Version folders on disk, oldest first."""
        if not self.versions.is_dir():
            return []
        return sorted(int(p.name) for p in self.versions.iterdir() if p.name.isdigit())

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """Held for a whole build; a second builder is refused at once, never interleaved."""
        self.root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.root / ".lock"), timeout=0)
        try:
            lock.acquire()
        except Timeout as exc:
            raise IndexBusyError(
                f"another process is building the index at {self.root}; wait for it to finish "
                "and run the command again"
            ) from exc
        try:
            self._remove_abandoned_builds()
            yield
        finally:
            lock.release()

    def new_build_dir(self) -> Path:
        """An empty folder to build the next version in (call under the write lock)."""
        self.versions.mkdir(parents=True, exist_ok=True)
        path = self.versions / f"{_BUILD_PREFIX}{uuid.uuid4().hex[:12]}"
        path.mkdir()
        return path

    def publish(self, build_dir: Path, version: int) -> Path:
        """Make a finished build the current version: fsync, rename, swap CURRENT."""
        for path in sorted(build_dir.rglob("*"), reverse=True):
            _fsync(path)
        _fsync(build_dir)
        checkpoint("build synced")
        final = self.version_dir(version)
        if final.exists():  # left by a builder that died between rename and CURRENT swap
            shutil.rmtree(final)
        os.rename(build_dir, final)
        _fsync(self.versions)
        checkpoint("version renamed")
        tmp = self.root / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(f"{version:06d}\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / CURRENT)
        _fsync(self.root)
        checkpoint("CURRENT swapped")
        return final

    def prune(self, keep: int) -> list[int]:
        """Delete all but the newest `keep` published versions (never the current one)."""
        current = self.current_version()
        older = [v for v in self.published() if current is not None and v < current]
        doomed = older[: max(0, len(older) - (keep - 1))]
        # Versions newer than CURRENT were never published (a builder died); they go too.
        doomed += [v for v in self.published() if current is not None and v > current]
        for version in doomed:
            shutil.rmtree(self.version_dir(version), ignore_errors=True)
        return doomed

    def next_version(self) -> int:
        """One past every version on disk, published or not."""
        return max([*self.published(), self.current_version() or 0], default=0) + 1

    def _remove_abandoned_builds(self) -> None:
        if self.versions.is_dir():
            for path in self.versions.glob(f"{_BUILD_PREFIX}*"):
                shutil.rmtree(path, ignore_errors=True)
        for path in self.root.glob(f".{CURRENT}.*"):
            path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
