"""The web page in headless Chromium against a real `rag serve` (packaged encoder, embedded
model) on the demo corpus: the draft streams in, each section shows once checked, then the
answer; a citation opens its passage; a pasted text is checked claim by claim; an admin
uploads a source. Set UPDATE_SCREENSHOTS=1 to refresh the pictures in docs/server/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers.server import rag_serve

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo"
DOCS = ROOT / "docs" / "server"
TOKEN = "browser-test-token"
QUESTION = "Did the Minneapolis council vote to tighten the separation ordinance?"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.slow


def _chromium() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if found is None:
        message = "chromium not found; install Debian's package: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it; a missing browser there is a failure
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`rag serve` on the demo index, on a free loopback port; its URL."""
    with rag_serve(tmp_path_factory.mktemp("browser"), DEMO, RAG_ADMIN_TOKEN=TOKEN) as url:
        yield url


def _shots(tmp_path: Path) -> Path:
    if os.environ.get("UPDATE_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        return DOCS
    return tmp_path


def test_ask_streams_then_a_citation_shows_its_passage(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots = _shots(tmp_path)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(server)
        page.wait_for_function(
            "document.getElementById('health').textContent.includes('14 sources')"
        )
        page.fill("#question", QUESTION)
        page.click("#ask-button")

        # The draft streams in while the checked answer is not shown yet.
        page.wait_for_function(
            "document.getElementById('draft-text').textContent.length > 20 && "
            "document.getElementById('answer').hidden",
            timeout=240_000,
        )
        partial = page.text_content("#draft-text") or ""
        page.screenshot(path=str(shots / "draft-streaming.png"), full_page=True)

        # Each section shows in place once checked, before the whole answer arrives.
        page.wait_for_selector("#checked-sections h3", timeout=300_000)
        assert page.is_hidden("#answer")
        first = (page.text_content("#checked-sections h3") or "").split(". ", 1)[1]
        page.screenshot(path=str(shots / "sections-checked.png"), full_page=True)

        page.wait_for_selector("#answer-status", timeout=400_000)
        assert page.is_hidden("#draft") and page.is_hidden("#checked")
        assert first in (page.text_content("#answer") or "")
        status = page.text_content("#answer-status")
        assert status in ("accepted", "repaired"), page.text_content("#answer")
        answer_text = page.text_content("#answer") or ""
        assert answer_text and partial  # both seen: first the draft, then the answer

        # Clicking [n] opens the cited passage with the quoted sentence marked.
        citation = page.locator("#answer a.cite").first
        number = citation.get_attribute("data-n")
        citation.click()
        page.wait_for_selector("#passage:not([hidden])")
        assert (page.text_content("#passage-title") or "").startswith(f"[{number}] ")
        marked = page.text_content("#passage-text mark") or ""
        assert len(marked) > 20 and marked in (page.text_content("#passage-text") or "")
        page.screenshot(path=str(shots / "answer-with-passage.png"), full_page=True)

        # The passage's source opens on the sources page.
        page.click("#passage-source")
        page.wait_for_selector("#source-detail:not([hidden]) blockquote")
        assert marked in (page.text_content("#source-detail") or "")
        browser.close()


def test_a_pasted_text_is_checked_claim_by_claim(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    text = (
        "Minneapolis Police Chief Brian O'Hara said his officers do not cooperate with ICE in "
        "immigration enforcement. Penguins elected a new mayor of the harbor town last spring."
    )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(f"{server}/#check")
        page.fill("#check-text", text)
        page.click("#check-button")
        page.wait_for_function(
            "document.getElementById('check-progress').textContent.includes('claims checked')",
            timeout=240_000,
        )
        verdicts = page.locator("#claims .verdict").all_text_contents()
        assert verdicts[0] == "supported" and verdicts[1] != "supported", verdicts
        assert "O'Hara" in (page.text_content("#claims li blockquote") or "")
        page.screenshot(path=str(_shots(tmp_path) / "check-a-text.png"), full_page=True)
        browser.close()


def test_admin_uploads_a_source_from_the_page(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    upload = tmp_path / "ferry.md"
    upload.write_text(
        "# Harbor ferry returns\n\nThe harbor ferry resumes service on Monday after repairs "
        "to the pier, the transit agency said.\n",
        encoding="utf-8",
    )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(f"{server}/#sources")
        page.wait_for_selector("#source-table tbody tr")
        assert page.locator("#source-table tbody tr").count() == 14
        page.click("#admin summary")
        page.fill("#token", TOKEN)
        page.dispatch_event("#token", "change")
        page.set_input_files("#upload-files", str(upload))
        page.click("#upload-form button[type=submit]")
        page.wait_for_function(
            "document.getElementById('admin-message').textContent.includes('ferry.md')"
        )
        page.wait_for_function(
            "document.querySelectorAll('#source-table tbody tr').length === 15", timeout=120_000
        )
        assert "Harbor ferry returns" in (page.text_content("#source-table") or "")
        page.screenshot(path=str(_shots(tmp_path) / "sources-admin.png"), full_page=True)
        browser.close()
    hits = httpx.get(f"{server}/search", params={"q": "harbor ferry pier", "k": 1}).json()
    assert hits["hits"][0]["source_id"] == "ferry.md" and hits["index_version"] == 2
