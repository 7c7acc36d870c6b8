"""Web sources: an article URL and an RSS feed registered like folders, fetched at each build from
a local site (pages, a feed that grows, redirects, a 404, a timeout, a huge page, a non-HTML
response, robots.txt, a private address), politely and without losing what was indexed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers.data import CORPUS, write_corpus
from helpers.fakes import HashEmbedder, ScriptedLiteLLM, scripted_models
from helpers.site import Page, Site, serving_site

from rag.config import DEFAULT_EMBED_MODEL, Settings
from rag.errors import ConfigError
from rag.index.build import build_index
from rag.ingest.web import USER_AGENT
from rag.serve.app import create_app
from rag.serve.service import Service
from rag.store import IndexLayout, IndexReader
from rag.types import BuildReport

WORDS = "The harbor ferry resumes service on Monday after repairs to the pier, the agency said."


@pytest.fixture
def site() -> Iterator[Site]:
    with serving_site() as running:
        yield running


@pytest.fixture
def web(settings: Settings) -> Settings:
    """Loopback allowed (the site is local), short timeout, 1 MB limit."""
    return settings.updated(web_allow_private=True, web_timeout=1.0, max_file_mb=1.0)


def _build(settings: Settings, *add: str, full: bool = False) -> BuildReport:
    return build_index(settings, add=add, full=full, embedder=HashEmbedder(DEFAULT_EMBED_MODEL))


def _sources(settings: Settings) -> dict[str, tuple[str, str | None, str | None]]:
    reader = IndexReader.open(settings.index.dir)
    try:
        rows = reader.meta.source_page(0, 100)
        return {str(r["id"]): (str(r["title"]), _text(r["url"]), _text(r["date"])) for r in rows}
    finally:
        reader.close()


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def test_an_article_url_is_indexed_under_its_address(web: Settings, site: Site) -> None:
    site.article("/news/ferry", "Ferry returns", WORDS)
    report = _build(web, f"{site.url}/news/ferry")
    url = f"{site.url}/news/ferry"
    assert _sources(web) == {url: ("Ferry returns", url, "2026-11-02")}
    assert report.sources.added == 1
    reader = IndexReader.open(web.index.dir)
    assert url in reader.manifest.locations  # registered: a rebuild fetches it again
    reader.close()


def test_a_feed_grows_and_a_rebuild_fetches_only_what_is_new(web: Settings, site: Site) -> None:
    site.article("/a", "First story", WORDS)
    site.article("/b", "Second story", "The council voted on the ordinance on Tuesday evening.")
    site.feed("/feed.xml", [("/b", "Second story"), ("/a", "First story")])
    first = _build(web, f"{site.url}/feed.xml")
    assert sorted(_sources(web)) == [f"{site.url}/a", f"{site.url}/b"]
    assert first.sources.added == 2

    site.article("/c", "Third story", "Volunteers cleaned the river banks on Saturday morning.")
    site.feed("/feed.xml", [("/c", "Third story"), ("/b", "Second story"), ("/a", "First story")])
    second = _build(web)
    assert second.sources.added == 1 and second.sources.unchanged == 2
    # The known items were asked again with their ETag and not sent again.
    assert site.hits["/a"] == 2 and site.not_modified["/a"] == 1
    assert site.hits["/c"] == 1
    assert site.hits["/robots.txt"] == 2  # once per host and build

    # Nothing new at all: the feed itself answers 304, and no version is published.
    third = _build(web)
    assert site.not_modified["/feed.xml"] == 1
    assert third.version == second.version


def test_a_redirect_is_followed_and_the_source_keeps_its_registered_address(
    web: Settings, site: Site
) -> None:
    site.article("/new", "Moved story", WORDS)
    site.pages["/old"] = Page(b"", status=301, location="/new")
    _build(web, f"{site.url}/old")
    [(source, (title, url, _))] = _sources(web).items()
    assert (source, title, url) == (f"{site.url}/old", "Moved story", f"{site.url}/new")


@pytest.mark.parametrize(
    ("page", "reason"),
    [
        (None, "the server answered 404"),
        (Page(b"<html>slow</html>", delay=3.0), "no answer within 1 s"),
        (Page(b"<html>" + b"x" * 1_500_000 + b"</html>"), "over the 1.0 MB limit"),
        (Page(b"\x89PNG\r\n", content_type="image/png"), "not a web page or a feed"),
        (Page(b"", status=302, location="/loop"), "more than 5 redirects"),
    ],
)
def test_a_url_that_gives_nothing_is_refused_and_nothing_is_registered(
    web: Settings, site: Site, page: Page | None, reason: str
) -> None:
    if page is not None:
        site.pages["/loop"] = page
    with pytest.raises(ConfigError, match=reason) as refused:
        _build(web, f"{site.url}/loop")
    assert "nothing was added" in str(refused.value)
    assert IndexLayout(web.index.dir).current_version() is None


def test_robots_txt_is_obeyed(web: Settings, site: Site) -> None:
    site.article("/private/page", "Kept out", WORDS)
    site.pages["/robots.txt"] = Page(
        f"User-agent: {USER_AGENT.split('/')[0]}\nDisallow: /private/\n".encode(), "text/plain"
    )
    with pytest.raises(ConfigError, match=r"robots.txt does not allow"):
        _build(web, f"{site.url}/private/page")


def test_a_private_address_is_refused_unless_allowed(settings: Settings, site: Site) -> None:
    site.article("/page", "Local", WORDS)
    with pytest.raises(ConfigError, match=r"private or local address.*RAG_WEB_ALLOW_PRIVATE"):
        _build(settings, f"{site.url}/page")
    assert site.hits["/page"] == 0  # refused before any request


def test_a_page_gone_later_keeps_what_was_indexed_and_says_why(web: Settings, site: Site) -> None:
    site.article("/a", "First story", WORDS)
    site.article("/b", "Second story", "The council voted on the ordinance on Tuesday evening.")
    site.feed("/feed.xml", [("/b", "Second story"), ("/a", "First story")])
    _build(web, f"{site.url}/feed.xml")
    del site.pages["/a"]
    site.feed("/feed.xml", [("/b", "Second story (updated)"), ("/a", "First story")])
    report = _build(web)
    failed = report.sources.failed
    assert [(f.path, f.reason) for f in failed] == [(f"{site.url}/a", "the server answered 404")]
    assert f"{site.url}/a" in _sources(web)  # still indexed from the last fetch


def test_a_malformed_address_is_refused(web: Settings) -> None:
    with pytest.raises(ConfigError, match="not an http"):
        _build(web, "http://")


def test_removing_a_web_location_drops_its_sources(web: Settings, site: Site) -> None:
    site.article("/news/ferry", "Ferry returns", WORDS)
    url = f"{site.url}/news/ferry"
    _build(web, url)
    build_index(web, remove=[url], embedder=HashEmbedder(DEFAULT_EMBED_MODEL))
    assert _sources(web) == {}


def test_the_mirror_lives_inside_the_index_folder(web: Settings, site: Site) -> None:
    site.article("/news/ferry", "Ferry returns", WORDS)
    _build(web, f"{site.url}/news/ferry")
    web_dir = Path(web.index.dir) / "web"
    assert (web_dir / "state.json").is_file() and len(list(web_dir.glob("*.jsonl"))) == 1


def test_the_server_registers_an_address_for_admins_only(
    web: Settings, site: Site, tmp_path: Path
) -> None:
    site.article("/news/ferry", "Ferry returns", WORDS)
    _build(web, str(write_corpus(tmp_path / "c.jsonl", CORPUS)))
    served = web.updated(admin_token="tok", rate_limit_per_minute=0)
    fake = scripted_models(ScriptedLiteLLM([], reply="x"))
    auth = {"Authorization": "Bearer tok"}
    url = f"{site.url}/news/ferry"
    for allowed in (False, True):
        service = Service(
            served.updated(web_allow_private=allowed),
            embedder=HashEmbedder(DEFAULT_EMBED_MODEL),
            models=fake,
        )
        with TestClient(create_app(service=service)) as client:
            assert client.post("/index/web", json={"url": url}).status_code == 401
            bad = client.post("/index/web", json={"url": "ftp://x"}, headers=auth)
            assert bad.status_code == 400 and "not an http" in bad.json()["message"]
            job = client.post("/index/web", json={"url": url}, headers=auth)
            assert job.status_code == 202 and job.json()["kind"] == "web"
            assert service.jobs.wait(timeout=30)
            done = client.get("/index").json()["jobs"][0]
            if allowed:
                assert done["state"] == "done"
                assert client.get(f"/sources/{url}").json()["title"] == "Ferry returns"
            else:
                assert done["state"] == "failed" and "RAG_WEB_ALLOW_PRIVATE" in done["error"]
