"""The server process killed mid-work, and stopped gracefully: `rag serve` (fake encoder, scripted
model) killed with SIGKILL during an upload's build, a background rebuild and a streamed
answer comes back serving the last published version, with `rag index verify` clean and a kept
upload indexed; SIGTERM lets a streamed answer finish. Kills land at the points a build passes
(RAG_TEST_KILL_AT), never after a time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from helpers.data import synthetic_text, write_corpus
from helpers.fakes import HashEmbedder
from helpers.server import free_port, wait_ready

from rag.config import DEFAULT_EMBED_MODEL, Settings
from rag.index.build import build_index
from rag.index.verify import verify_index
from rag.progress import HOLD_AT, HOLD_FILE, KILL_AT

pytestmark = pytest.mark.slow
TESTS = Path(__file__).resolve().parent
TOKEN = "kill-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@contextmanager
def served(index: Settings, **env: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`rag serve` in its own process (scripted model, fake encoder); its URL and process."""
    port = free_port()
    environment = {
        **os.environ,
        "PYTHONPATH": str(TESTS),
        "RAG_INDEX_DIR": str(index.index.dir),
        "RAG_LLM_MODEL": "openai/gpt-4o-mini",
        "RAG_VALIDATE_MODE": "fast",
        "RAG_COMPOSE": "single",
        "RAG_ANSWER_K": "2",
        "RAG_ADMIN_TOKEN": TOKEN,
        "RAG_RATE_LIMIT_PER_MINUTE": "0",
        **env,
    }
    proc = subprocess.Popen(
        [sys.executable, str(TESTS / "helpers" / "scripted_rag.py"), "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, proc, 60, lambda: proc.communicate()[1].decode())
    try:
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def _died(proc: subprocess.Popen[bytes]) -> None:
    assert proc.wait(timeout=60) == -signal.SIGKILL


def _state(url: str) -> dict[str, object]:
    state: dict[str, object] = httpx.get(f"{url}/index", timeout=10).json()
    return state


def _wait_idle(url: str) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while _state(url)["building"]:
        assert time.monotonic() < deadline, "the build did not finish"
        time.sleep(0.2)
    return _state(url)


def test_killed_during_an_uploads_build_the_upload_is_indexed_after_restart(
    index: Settings,
) -> None:
    big = "\n".join(
        json.dumps({"id": f"u{i}", "title": f"U{i}", "text": synthetic_text(i)}) for i in range(600)
    ).encode()
    # The upload is kept, then its build dies at its second embedded block (point 3).
    with served(index, **{KILL_AT: "3"}) as (url, proc):
        taken = httpx.post(
            f"{url}/sources", headers=AUTH, files=[("files", ("more.jsonl", big))], timeout=30
        )
        assert taken.status_code == 202
        _died(proc)
    killed = verify_index(index)
    assert killed.ok and killed.version == 1  # the last published, untouched
    with served(index) as (url, _):
        # The kept upload's build runs again at start.
        state = _wait_idle(url)
        assert state["index_version"] == 2 and state["sources"] == 603  # indexed whole
    assert verify_index(index).ok


def test_killed_during_a_rebuild_the_last_version_is_served(index: Settings) -> None:
    # Point 2: the rebuild's first embedded block.
    with served(index, **{KILL_AT: "2"}) as (url, proc):
        try:
            accepted = httpx.post(f"{url}/index/rebuild?full=true", headers=AUTH)
            assert accepted.status_code == 202
        except httpx.RemoteProtocolError:
            pass  # the rebuild reached the kill point before the reply went out
        _died(proc)
    report = verify_index(index)
    assert report.ok and report.version == 1
    with served(index) as (url, _):
        hits = httpx.get(f"{url}/search", params={"q": "police chief"}).json()
        assert hits["index_version"] == 1 and hits["hits"]
        assert httpx.post(f"{url}/index/rebuild?full=true", headers=AUTH).status_code == 202
        assert _wait_idle(url)["index_version"] == 2
    assert verify_index(index).leftovers == []


def _first_token(url: str) -> httpx.Response:
    """A streamed /ask, read up to its first token; the open response."""
    client = httpx.Client(timeout=60)
    request = client.build_request(
        "POST",
        f"{url}/ask",
        json={"question": "Do police help ICE?"},
        headers={"Accept": "text/event-stream"},
    )
    response = client.send(request, stream=True)
    lines = response.iter_lines()
    for line in lines:
        if line == "event: token":
            break
    response.extensions["rest"] = lines  # what the caller may read on
    return response


def test_killed_during_a_streamed_answer_it_comes_back_clean(index: Settings) -> None:
    with served(index, SCRIPTED_DELAY="0.05") as (url, proc):
        response = _first_token(url)
        proc.kill()
        _died(proc)
        response.close()
    assert verify_index(index).ok
    with served(index) as (url, _):
        answer = httpx.post(f"{url}/ask", json={"question": "Do police help ICE?"}, timeout=60)
        assert answer.status_code == 200 and answer.json()["status"] == "accepted"


def test_sigterm_lets_a_streamed_answer_finish(index: Settings) -> None:
    with served(index, SCRIPTED_DELAY="0.02") as (url, proc):
        response = _first_token(url)
        proc.send_signal(signal.SIGTERM)
        events = [line for line in response.extensions["rest"] if line.startswith("event: ")]
        response.close()
        assert events[-1] == "event: answer", events[-5:]
        # uvicorn shuts down gracefully, then exits by the signal it was sent.
        assert proc.wait(timeout=60) in (0, -signal.SIGTERM)
    assert verify_index(index).ok


def test_sigterm_stops_a_build_at_a_safe_point(index: Settings, tmp_path: Path) -> None:
    more = write_corpus(
        tmp_path / "more.jsonl",
        [{"id": f"m{i}", "title": f"M{i}", "text": synthetic_text(i)} for i in range(600)],
    )
    build_index(index, add=[str(more)], embedder=HashEmbedder(model_id=DEFAULT_EMBED_MODEL))
    hold = tmp_path / "hold"
    hold.touch()
    # The full rebuild is held after its first embedded block (point 2) until SIGTERM came.
    with served(index, **{HOLD_AT: "2", HOLD_FILE: str(hold)}) as (url, proc):
        assert httpx.post(f"{url}/index/rebuild?full=true", headers=AUTH).status_code == 202
        deadline = time.monotonic() + 30
        while not (_state(url)["jobs"][0]["done"]):  # type: ignore[index]
            assert time.monotonic() < deadline
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        hold.unlink()
        assert proc.wait(timeout=60) in (0, -signal.SIGTERM)
    report = verify_index(index)
    assert report.ok and report.version == 2 and report.leftovers == []  # abandoned whole
