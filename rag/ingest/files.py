"""Ingest: registered locations -> files -> Sources; an unreadable file is reported, not fatal."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import IngestError
from rag.ingest import readers
from rag.ingest.html import read_html
from rag.ingest.web import check_url, is_url
from rag.types import Source, SourceFailure


@dataclass(frozen=True)
class FoundFile:
    """A file under a registered location, with what is needed to tell if it changed."""

    path: str
    root: str
    size: int
    mtime_ns: int

    @property
    def relpath(self) -> str:
        """Path relative to the registered root, with forward slashes: the file's source id."""
        return Path(os.path.relpath(self.path, self.root)).as_posix()


@dataclass
class ReadResult:
    """Sources read from one file, and the lines or the file that could not be read."""

    sources: list[Source] = field(default_factory=list)
    failures: list[SourceFailure] = field(default_factory=list)


def unusable_location(given: str) -> str | None:
    """Why `given` cannot be registered (a missing path, a malformed web address), or None."""
    if is_url(given):
        try:
            check_url(given)
        except IngestError as exc:
            return f"{given}: {exc.reason}"
        return None
    if not os.path.exists(given):
        return (
            f"{given} does not exist; give a file or folder of .txt, .md, .html, .pdf or .jsonl "
            "sources, or an http(s) address of a page or a feed"
        )
    return None


def root_of(location: str) -> str:
    """The folder source ids are relative to: the location itself, or a file's folder."""
    return location if os.path.isdir(location) else os.path.dirname(location)


def find_files(location: str) -> Iterator[FoundFile | SourceFailure]:
    """Files under a registered location, sorted; hidden files and folders are left out."""
    if not os.path.exists(location):
        yield SourceFailure(path=location, reason="registered location no longer exists")
        return
    root = root_of(location)
    if os.path.isfile(location):
        yield _found(location, root)
        return
    real_root = os.path.realpath(location)
    for dirpath, dirnames, filenames in os.walk(location, followlinks=False):
        visible = sorted(d for d in dirnames if not d.startswith("."))
        # Links to folders are not followed: they can loop, or lead out of the location.
        dirnames[:] = [d for d in visible if not os.path.islink(os.path.join(dirpath, d))]
        for name in sorted(set(visible) - set(dirnames)):
            yield SourceFailure(
                path=_printable(os.path.join(dirpath, name)),
                reason="link to a folder, not followed (links can loop or lead elsewhere); "
                "register the folder it points to if it should be indexed",
            )
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = os.path.join(dirpath, name)
            problem = _refusal(path, real_root)
            if problem:
                yield SourceFailure(path=_printable(path), reason=problem)
                continue
            yield _found(path, root)


def _printable(path: str) -> str:
    """A path as valid UTF-8 (undecodable bytes of a file name shown as U+FFFD)."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _refusal(path: str, real_root: str) -> str | None:
    """Why a file under a location is not read, or None."""
    if _printable(path) != path:
        return "file name is not valid UTF-8; rename the file"
    if not os.path.isfile(path):
        return "not a regular file (a broken or looping link, or a device)"
    if os.path.islink(path):
        target = os.path.realpath(path)
        if os.path.commonpath([target, real_root]) != real_root:
            return (
                f"link to {_printable(target)}, outside the registered location; register "
                "that file itself if it should be indexed"
            )
    return None


def _found(path: str, root: str) -> FoundFile:
    st = os.stat(path)
    return FoundFile(path=path, root=root, size=st.st_size, mtime_ns=st.st_mtime_ns)


def read_file(found: FoundFile, max_bytes: int) -> ReadResult:
    """Every source in one file; a failure names the file (or line) and the reason."""
    result = ReadResult()
    try:
        result.sources.extend(_read(found, max_bytes, result.failures))
    except IngestError as exc:
        result.failures.append(SourceFailure(path=exc.path, reason=exc.reason))
    except OSError as exc:
        result.failures.append(
            SourceFailure(path=found.path, reason=f"cannot read: {exc.strerror}")
        )
    return result


def _read(found: FoundFile, max_bytes: int, failures: list[SourceFailure]) -> Iterator[Source]:
    suffix = Path(found.path).suffix.lower()
    if suffix not in readers.SUPPORTED_SUFFIXES:
        raise IngestError(
            found.path,
            f"unsupported file type '{suffix or '(none)'}'; "
            f"supported: {', '.join(readers.SUPPORTED_SUFFIXES)}",
        )
    if found.size == 0:
        raise IngestError(found.path, "empty file")
    if found.size > max_bytes:
        raise IngestError(
            found.path,
            f"file is {found.size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit; "
            "raise RAG_MAX_FILE_MB or split the file",
        )
    with open(found.path, "rb") as fh:
        data = fh.read()
    if suffix in readers.JSONL_SUFFIXES:
        for item in readers.read_jsonl(data, found.path):
            if isinstance(item, IngestError):
                failures.append(SourceFailure(path=item.path, reason=item.reason))
            else:
                yield _source(item, item.id or "", found.path)
        return
    if suffix in readers.HTML_SUFFIXES:
        doc = read_html(data, found.path)
    elif suffix in readers.PDF_SUFFIXES:
        doc = readers.read_pdf(data, found.path)
    else:
        doc = readers.read_text(data, found.path)
    if not doc.text:
        raise IngestError(found.path, "no text left after extraction (empty document)")
    yield _source(doc, found.relpath, found.path)


def _source(doc: readers.Document, source_id: str, path: str) -> Source:
    title = doc.title or Path(source_id).stem or source_id
    return Source.create(
        id=source_id, title=title, text=doc.text, url=doc.url, date=doc.date, path=path
    )
