"""Sources from the web: a registered article URL or RSS/Atom feed URL, fetched at each build into
a mirror file the scan reads like any corpus (one JSONL line per page, its id and url the page's
address), so an unchanged page is carried over and a changed one re-embedded as for files.

Polite: one user agent, a timeout and a size limit per request, conditional GET (ETag and
Last-Modified remembered per address), robots.txt read once per host and build, at most
`feed_items` pages per feed. Safe: only http(s); redirects followed by hand (at most five), each
address resolved and refused when private, loopback or link-local unless allowed. A fetch that
fails keeps the mirror as it was (what was indexed stays) and is reported with its reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import os
import socket
import tempfile
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from rag.errors import IngestError
from rag.ingest import readers
from rag.ingest.html import read_html
from rag.types import SourceFailure

USER_AGENT = "rag/0.1 (cited-answer indexer; respects robots.txt)"
_REDIRECTS = 5
_FEED_TYPES = ("rss", "atom", "xml")
_TEXT_TYPES = ("text/plain", "text/markdown")

Resolve = Callable[[str], list[str]]


def is_url(location: str) -> bool:
    """Whether a registered location is a web address.

    >>> is_url("https://example.org/feed.xml"), is_url("examples/demo")
    (True, False)
    """
    return location.startswith(("http://", "https://"))


def check_url(url: str) -> str:
    """`url` if it is a web address a source can come from, else IngestError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise IngestError(url, "not an http(s) address with a host; give e.g. https://site/page")
    return url


def _resolve(host: str) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, None)]


@dataclass
class WebSettings:
    """How pages are fetched."""

    timeout: float = 10.0
    max_bytes: int = 20_000_000
    feed_items: int = 50
    allow_private: bool = False
    resolve: Resolve = _resolve  # host -> addresses; tests may pin it


@dataclass
class Fetched:
    """One response: its final address, type, body; or 304 (not modified)."""

    url: str
    status: int
    content_type: str = ""
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class Mirror:
    """What one registered web location gave at this build."""

    path: Path | None  # the mirror file the scan reads (None: nothing fetched yet)
    failures: list[SourceFailure] = field(default_factory=list)
    fetched: int = 0  # pages downloaded (not 304)


class WebFetcher:
    """Fetches registered web locations into mirror files under `folder`."""

    def __init__(
        self, folder: Path, settings: WebSettings, client: httpx.Client | None = None
    ) -> None:
        self.folder = folder
        self.settings = settings
        self.client = client or httpx.Client(
            timeout=settings.timeout, headers={"User-Agent": USER_AGENT}, follow_redirects=False
        )
        self._robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}
        self._state_path = folder / "state.json"
        self.state: dict[str, Any] = {}
        if self._state_path.is_file():
            with contextlib.suppress(ValueError, OSError):
                self.state = json.loads(self._state_path.read_text(encoding="utf-8"))

    def close(self) -> None:
        """Save what was learnt (validators of each address) and close the connections."""
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(self._state_path, json.dumps(self.state, indent=1).encode())
        self.client.close()

    def mirror_path(self, url: str) -> Path:
        """The mirror file of a registered address."""
        return self.folder / f"{hashlib.sha256(url.encode()).hexdigest()[:20]}.jsonl"

    # -- one location ----------------------------------------------------------------------
    def mirror(self, url: str) -> Mirror:
        """Fetch `url` (a page or a feed and its items) and rewrite its mirror file if what it
        holds changed."""
        path = self.mirror_path(url)
        out = Mirror(path if path.is_file() else None)
        old = _records(path)
        try:
            got = self.get(url, self.state.get(url, {}))
        except IngestError as exc:
            out.failures.append(SourceFailure(path=url, reason=exc.reason))
            return out
        if got.status == 304:
            return out
        self.state.setdefault(url, {}).update(etag=got.etag, last_modified=got.last_modified)
        out.fetched += 1
        try:
            # A page is one source, under the address it was registered by.
            page = [] if _is_feed(got) else [_page_record(got) | {"id": url}]
            records = self._feed(url, got, old, out) if _is_feed(got) else page
        except IngestError as exc:
            out.failures.append(SourceFailure(path=url, reason=exc.reason))
            return out
        if records != list(old.values()):
            self.folder.mkdir(parents=True, exist_ok=True)
            _write_atomic(path, "".join(json.dumps(r) + "\n" for r in records).encode())
        out.path = path if path.is_file() else None
        return out

    def _feed(
        self, url: str, got: Fetched, old: dict[str, dict[str, Any]], out: Mirror
    ) -> list[dict[str, Any]]:
        """One record per feed item (its page, fetched when new or changed); an item whose
        page fails keeps its last record, or is left out and reported."""
        import feedparser

        feed = feedparser.parse(got.body)
        if not feed.entries and feed.bozo:
            raise IngestError(url, f"not a readable feed ({feed.bozo_exception})")
        records = []
        known = self.state.setdefault(url, {}).setdefault("items", {})
        for entry in feed.entries[: self.settings.feed_items]:
            link = entry.get("link")
            if not link:
                continue
            link = urljoin(got.url, str(link))
            try:
                page = self.get(link, known.get(link, {}))
            except IngestError as exc:
                out.failures.append(SourceFailure(path=link, reason=exc.reason))
                if link in old:
                    records.append(old[link])
                continue
            if page.status == 304 and link in old:
                records.append(old[link])
                continue
            out.fetched += page.status != 304
            known[link] = {"etag": page.etag, "last_modified": page.last_modified}
            try:
                record = _page_record(page)
            except IngestError as exc:
                out.failures.append(SourceFailure(path=link, reason=exc.reason))
                continue
            record["id"] = link  # the item's address, whatever it redirected to
            record["date"] = record.get("date") or _entry_date(entry)
            records.append(record)
        return records

    # -- one request -----------------------------------------------------------------------
    def get(self, url: str, known: dict[str, Any]) -> Fetched:
        """GET `url` with its validators from the last build, redirects followed by hand."""
        headers = {}
        if known.get("etag"):
            headers["If-None-Match"] = str(known["etag"])
        if known.get("last_modified"):
            headers["If-Modified-Since"] = str(known["last_modified"])
        current = check_url(url)
        for _ in range(_REDIRECTS + 1):
            self._allowed(current)
            try:
                with self.client.stream("GET", current, headers=headers) as response:
                    if response.is_redirect and "location" in response.headers:
                        current = check_url(urljoin(current, response.headers["location"]))
                        continue
                    return self._read(current, response)
            except httpx.TimeoutException as exc:
                raise IngestError(
                    current, f"no answer within {self.settings.timeout:g} s (RAG_WEB_TIMEOUT)"
                ) from exc
            except httpx.HTTPError as exc:
                raise IngestError(current, f"could not fetch it ({exc})") from exc
        raise IngestError(url, f"more than {_REDIRECTS} redirects")

    def _read(self, url: str, response: httpx.Response) -> Fetched:
        if response.status_code == 304:
            return Fetched(url, 304)
        if response.status_code != 200:
            raise IngestError(url, f"the server answered {response.status_code}")
        declared = response.headers.get("content-length", "")
        limit = self.settings.max_bytes
        if declared.isdigit() and int(declared) > limit:
            raise IngestError(url, _too_big(int(declared), limit))
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > limit:
                raise IngestError(url, _too_big(len(body), limit))
        return Fetched(
            url,
            200,
            response.headers.get("content-type", "").split(";")[0].strip().lower(),
            bytes(body),
            response.headers.get("etag"),
            response.headers.get("last-modified"),
        )

    def _allowed(self, url: str) -> None:
        """Refuse private addresses (unless allowed) and what robots.txt disallows."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if not self.settings.allow_private:
            try:
                addresses = self.settings.resolve(host)
            except OSError as exc:
                raise IngestError(url, f"cannot resolve {host} ({exc})") from exc
            for address in addresses:
                ip = ipaddress.ip_address(address.split("%")[0])
                if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved:
                    raise IngestError(
                        url,
                        f"{host} is a private or local address ({address}); fetching it is "
                        "refused unless RAG_WEB_ALLOW_PRIVATE=true",
                    )
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            self._robots[origin] = self._robots_of(origin)
        robots = self._robots[origin]
        if robots is not None and not robots.can_fetch(USER_AGENT, url):
            raise IngestError(url, f"{origin}/robots.txt does not allow fetching it")

    def _robots_of(self, origin: str) -> urllib.robotparser.RobotFileParser | None:
        """The site's robots.txt, or None (allowed) when it has none or it cannot be read."""
        try:
            response = self.client.get(f"{origin}/robots.txt")
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        robots = urllib.robotparser.RobotFileParser()
        robots.parse(response.text.splitlines())
        return robots


def _too_big(size: int, limit: int) -> str:
    return (
        f"{size / 1e6:.1f} MB, over the {limit / 1e6:.1f} MB limit; raise RAG_MAX_FILE_MB to "
        "index it"
    )


def _is_feed(got: Fetched) -> bool:
    if any(kind in got.content_type for kind in _FEED_TYPES):
        return True
    start = got.body[:500].lstrip().lower()
    return start.startswith((b"<?xml", b"<rss", b"<feed"))


def _page_record(got: Fetched) -> dict[str, Any]:
    """A page as a corpus line; IngestError for what is not a page of text."""
    if got.content_type in ("text/html", "application/xhtml+xml", ""):
        doc = read_html(got.body, got.url)
    elif got.content_type in _TEXT_TYPES:
        doc = readers.read_text(got.body, got.url)
    else:
        raise IngestError(
            got.url,
            f"not a web page or a feed (content type {got.content_type}); download it and "
            "add the file instead",
        )
    if not doc.text:
        raise IngestError(got.url, "no text left after extraction (empty page)")
    return {
        "id": got.url,
        "title": doc.title or got.url,
        "text": doc.text,
        "url": got.url,
        "date": doc.date,
    }


def _entry_date(entry: Any) -> str | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return f"{parsed.tm_year:04d}-{parsed.tm_mon:02d}-{parsed.tm_mday:02d}"


def _records(path: Path) -> dict[str, dict[str, Any]]:
    """The mirror's records by id (empty when there is none)."""
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            out[str(record["id"])] = record
    return out


def _write_atomic(path: Path, data: bytes) -> None:
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(fh.name, path)
