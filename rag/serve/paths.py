"""Paths as a client of the server sees them: a source's file relative to the registered
location that holds it, never where it sits on this machine; and the names uploads are kept
under."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from rag.errors import ConfigError
from rag.ingest import readers
from rag.types import Citation, Hit, TextCheck

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
