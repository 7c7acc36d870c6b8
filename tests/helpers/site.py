"""A small web site on a loopback port, for the web-source tests (no internet here): pages, a
feed whose items can be added between builds, redirects, errors, a slow and a huge page, and
robots.txt. Answers conditional GETs with 304 when the page's ETag matches; counts requests."""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Page:
    """What one path answers."""

    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    delay: float = 0.0
    location: str | None = None  # a redirect's target


@dataclass
class Site:
    """The pages by path, and the requests seen (path -> count, and the 304s sent)."""

    url: str = ""
    pages: dict[str, Page] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    not_modified: Counter[str] = field(default_factory=Counter)

    def article(self, path: str, title: str, text: str, date: str = "2026-11-02") -> None:
        """An HTML article page at `path`."""
        self.pages[path] = Page(
            f"<html><head><title>{title}</title>"
            f'<meta property="article:published_time" content="{date}"></head>'
            f"<body><article><h1>{title}</h1><p>{text}</p></article></body></html>".encode()
        )

    def feed(self, path: str, items: list[tuple[str, str]]) -> None:
        """An RSS feed at `path` listing (path, title) items, newest first."""
        entries = "".join(
            f"<item><title>{title}</title><link>{self.url}{item}</link>"
            "<pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate></item>"
            for item, title in items
        )
        self.pages[path] = Page(
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
            f"{entries}</channel></rss>".encode(),
            "application/rss+xml",
        )


@contextmanager
def serving_site() -> Iterator[Site]:
    """The site on 127.0.0.1 until the block ends."""
    site = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.hits[self.path] += 1
            page = site.pages.get(self.path)
            if page is None:
                self.send_response(404)
                self.send_header("Content-Length", "9")
                self.end_headers()
                self.wfile.write(b"not found")
                return
            if page.delay:
                time.sleep(page.delay)
            etag = '"' + hashlib.sha256(page.body).hexdigest()[:16] + '"'
            if page.status == 200 and self.headers.get("If-None-Match") == etag:
                site.not_modified[self.path] += 1
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(page.status)
            if page.location:
                self.send_header("Location", page.location)
            self.send_header("Content-Type", page.content_type)
            self.send_header("Content-Length", str(len(page.body)))
            self.send_header("ETag", etag)
            self.end_headers()
            # The client may give up (a timeout, a size limit): what the test wanted.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(page.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    site.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
