"""Paths as a client of the server sees them: a source's file relative to the registered
location that holds it, never where it sits on this machine; and uploads, the names they are
kept under, and how they are kept (whole or not at all)."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from rag.errors import ConfigError, DiskFullError, out_of_space
from rag.ingest import readers
from rag.ingest.files import FoundFile, read_file
from rag.types import Citation, Hit, SourceFailure, TextCheck

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


Located = TypeVar("Located", Hit, Citation)


def shown_path(item: Located, locations: Sequence[str]) -> Located:
    """A hit or citation as a client sees it: its file's path relative to the registered
    location that holds it (a registered file: its name), never where it sits on this machine.

    >>> hit = Hit.model_validate({"rank": 1, "score": 1.0, "retriever": "dense", "source_id": "a",
    ...     "passage_id": "p", "title": "T", "text": "x", "start": 0, "end": 1,
    ...     "path": "/srv/news/2025/a.md"})
    >>> shown_path(hit, ["/srv/news"]).path, shown_path(hit, ["/srv/news/2025/a.md"]).path
    ('2025/a.md', 'a.md')
    """
    if item.path is None:
        return item
    holders = [loc for loc in locations if item.path.startswith(loc.rstrip(os.sep) + os.sep)]
    if item.path in locations:
        shown: str | None = os.path.basename(item.path)
    elif holders:
        shown = os.path.relpath(item.path, max(holders, key=len))
    else:
        shown = None  # under no location (one since removed): nothing of this machine shown
    return item.model_copy(update={"path": shown})


def safe_name(name: str) -> str:
    """The file name an upload is stored under: its last path part, in safe characters, with a
    suffix the readers know; anything else is refused."""
    base = _SAFE_NAME.sub("_", Path(name.replace("\\", "/")).name).lstrip("._")
    suffix = Path(base).suffix.lower()
    if not base or suffix not in readers.SUPPORTED_SUFFIXES:
        raise ConfigError(
            f"cannot take {name!r}: upload files ending in {', '.join(readers.SUPPORTED_SUFFIXES)}"
        )
    return base


def shown_check(report: TextCheck, locations: Sequence[str]) -> TextCheck:
    """A text check with every citation's path as a client sees it."""
    claims = [
        claim.model_copy(
            update={
                "citations": [shown_path(c, locations) for c in claim.citations],
                "closest": shown_path(claim.closest, locations) if claim.closest else None,
            }
        )
        for claim in report.claims
    ]
    citations = [shown_path(c, locations) for c in report.citations]
    return report.model_copy(update={"claims": claims, "citations": citations})


def keep_uploads(
    folder: Path, files: list[tuple[str, bytes]], max_bytes: int
) -> tuple[list[str], int, list[SourceFailure]]:
    """Each file read once from a staged copy, then all moved into `folder` under their safe
    names; one that nothing can be read from refuses the whole upload, and a full disk too:
    nothing of a refused upload is kept. (saved names, sources read, lines skipped.)"""
    folder.mkdir(parents=True, exist_ok=True)
    checked: list[tuple[Path, Path]] = []
    skipped: list[SourceFailure] = []
    sources = 0
    try:
        for name, data in files:
            target = folder / safe_name(name)
            staged = folder / f".upload-{uuid.uuid4().hex[:12]}{target.suffix}"
            checked.append((staged, target))  # before writing: a half-written one goes too
            staged.write_bytes(data)
            result = read_file(FoundFile(str(staged), str(folder), len(data), 0), max_bytes)
            problems = [
                f.model_copy(update={"path": f.path.replace(staged.name, target.name)})
                for f in result.failures
            ]
            if not result.sources:
                reason = problems[0].reason if problems else "no text in it"
                raise ConfigError(f"{name}: {reason}; nothing was uploaded")
            sources += len(result.sources)
            skipped += problems
    except BaseException as exc:
        for staged, _ in checked:
            staged.unlink(missing_ok=True)
        if out_of_space(exc):
            raise DiskFullError(
                f"no space left on the disk holding {folder}; nothing was uploaded and the "
                "index is unchanged; free space there and send the files again"
            ) from exc
        raise
    for staged, target in checked:
        os.replace(staged, target)
    return [t.name for _, t in checked], sources, skipped
