"""Fetch: the registered web addresses -> their mirror files, which the scan then reads like
any corpus file (rag/ingest/web.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rag.config import Settings
from rag.errors import ConfigError
from rag.ingest.web import WebFetcher, WebSettings, is_url
from rag.progress import Reporter
from rag.types import SourceFailure

WEB_DIR = "web"  # inside the index folder: the mirror files of registered web addresses


def fetch_web(
    root: Path,
    settings: Settings,
    locations: Sequence[str],
    add: Sequence[str],
    reporter: Reporter,
) -> tuple[dict[str, Path | None], list[SourceFailure]]:
    """Each registered web address of the index at `root` fetched into its mirror file (None:
    nothing yet), and what failed. A web address being added that gives nothing is an error:
    nothing of it would be indexed, and it is not registered."""
    urls = [loc for loc in locations if is_url(loc)]
    if not urls:
        return {}, []
    index = settings.index
    fetcher = WebFetcher(
        root / WEB_DIR,
        WebSettings(
            timeout=index.web_timeout,
            max_bytes=int(index.max_file_mb * 1_000_000),
            feed_items=index.web_feed_items,
            allow_private=index.web_allow_private,
        ),
    )
    local: dict[str, Path | None] = {}
    failures: list[SourceFailure] = []
    try:
        with reporter.task("fetching web sources", len(urls)) as tick:
            for url in urls:
                mirror = fetcher.mirror(url)
                if mirror.path is None and url in add:
                    reasons = "; ".join(f"{f.path}: {f.reason}" for f in mirror.failures)
                    raise ConfigError(
                        f"nothing could be indexed from {url} ({reasons or 'no pages'}); "
                        "nothing was added"
                    )
                local[url] = mirror.path
                failures += mirror.failures
                tick()
    finally:
        fetcher.close()
    return local, failures
