"""The HTTP service through FastAPI's test client: every endpoint, its refusals, background
builds and the switch to a newly published version. Fake encoder, litellm's mock replies."""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from helpers.data import CORPUS, GOOD, write_corpus
from helpers.fakes import FakeChatModel, HashEmbedder, ScriptedLiteLLM, scripted_models
from helpers.server import serving

from rag.cli.app import cli
from rag.cli.serve import is_loopback
from rag.config import DEFAULT_EMBED_MODEL, Settings, load_settings
from rag.errors import ConfigError
from rag.index.build import build_index
from rag.llm.model import Generation, Messages, OnToken
from rag.serve.app import create_app
from rag.serve.limits import RateLimiter
from rag.serve.paths import safe_name
from rag.serve.service import Service
from rag.store import IndexLayout
from rag.types import Answer

# The scripted replies are whole drafts: these tests hold the one-draft path and its streamed
# tokens (checked sections over SSE: tests/test_compose.py).
COMPOSE = "single"

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MODEL = "openai/gpt-4o-mini"


def _embedder() -> HashEmbedder:
    return HashEmbedder(model_id=DEFAULT_EMBED_MODEL)


@pytest.fixture
def fake_llm(monkeypatch: pytest.MonkeyPatch) -> ScriptedLiteLLM:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    return ScriptedLiteLLM([], reply=GOOD)


def _settings(settings: Settings, **changes: Any) -> Settings:
    defaults: dict[str, Any] = {
        "llm_model": MODEL,
        "admin_token": TOKEN,
        "rate_limit_per_minute": 0,
        "answer_k": 2,
    }
    return load_settings(
        index_dir=settings.index.dir, validate_mode="fast", **{**defaults, **changes}
    )


def _client(settings: Settings, fake: ScriptedLiteLLM, **changes: Any) -> Iterator[TestClient]:
    service = Service(
        _settings(settings, **changes), embedder=_embedder(), models=scripted_models(fake)
    )
    with TestClient(create_app(service=service), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def indexed(settings: Settings, tmp_path: Path) -> Settings:
    build_index(
        settings, add=[str(write_corpus(tmp_path / "c.jsonl", CORPUS))], embedder=_embedder()
    )
    return settings


@pytest.fixture
def client(indexed: Settings, fake_llm: ScriptedLiteLLM) -> Iterator[TestClient]:
    yield from _client(indexed, fake_llm)


def _service(client: TestClient) -> Service:
    service: Service = client.app.state.service  # type: ignore[attr-defined]
    return service


def _wait_for_jobs(client: TestClient) -> dict[str, Any]:
    service = _service(client)
    assert service.jobs.wait(timeout=30), "background build did not finish"
    state: dict[str, Any] = client.get("/index").json()
    return state


def _error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message"} and body["code"] == code
    message: str = body["message"]
    assert message and "Traceback" not in message
    return message


# -- reading ---------------------------------------------------------------------------------
def test_healthz_reports_what_is_served(client: TestClient) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200
    body = health.json()
    assert body["ready"] and body["state"] == "ok"
    assert (body["index_version"], body["sources"], body["passages"]) == (1, 3, 3)
    assert body["llm_model"] == MODEL and body["embed_model"] == DEFAULT_EMBED_MODEL
    assert body["admin"] is True


def test_healthz_without_an_index_is_not_ready(
    settings: Settings, fake_llm: ScriptedLiteLLM
) -> None:
    for client in _client(settings, fake_llm):
        response = client.get("/healthz")
        assert response.status_code == 503 and response.json()["state"] == "no_index"
        _error(client.get("/search", params={"q": "police"}), 503, "no_index")


def test_search_returns_ranked_hits_of_the_served_version(client: TestClient) -> None:
    body = client.get("/search", params={"q": "police chief ICE", "k": 2}).json()
    assert body["index_version"] == 1 and body["k"] == 2
    assert [h["rank"] for h in body["hits"]] == [1, 2]
    assert body["hits"][0]["source_id"] == "chief"


def test_ask_returns_a_validated_answer(client: TestClient, fake_llm: ScriptedLiteLLM) -> None:
    response = client.post("/ask", json={"question": "Do police help ICE?"})
    assert response.status_code == 200
    answer = Answer.model_validate(response.json())
    assert answer.status == "accepted" and answer.model == MODEL
    hit_ids = {h.passage_id for h in answer.hits}
    assert answer.citations and all(c.passage_id in hit_ids for c in answer.citations)
    assert answer.index_version == 1


def test_ask_streams_the_draft_then_the_answer(client: TestClient) -> None:
    with client.stream(
        "POST",
        "/ask",
        json={"question": "Do police help ICE?"},
        headers={"Accept": "text/event-stream"},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = "".join(response.iter_text())
    events = [
        (block.split("\n")[0].removeprefix("event: "), json.loads(block.split("\ndata: ", 1)[1]))
        for block in raw.strip().split("\n\n")
        if block.startswith("event:")
    ]
    names = [name for name, _ in events]
    assert names[0] == "progress" and names[-1] == "answer"
    assert names.count("token") >= 2  # litellm's mock streams word by word
    draft = "".join(data["text"] for name, data in events if name == "token")
    assert draft.startswith("## Summary") and "[1]" in draft
    answer = Answer.model_validate(events[-1][1])
    assert answer.status == "accepted" and answer.citations


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"question": ""}, 400, "empty_question"),
        ({"question": "   \n\t "}, 400, "empty_question"),
        ({"question": "x" * 2001}, 400, "question_too_long"),
        ({}, 422, "invalid_request"),
        ({"question": 42}, 422, "invalid_request"),
        ({"question": "ok?", "k": 0}, 422, "invalid_request"),
        ({"question": "ok?", "k": "many"}, 422, "invalid_request"),
        ({"question": "ok?", "temperature": 2}, 422, "invalid_request"),
        ({"question": "ok?", "model": "openai/gpt-4o"}, 400, "bad_request"),
    ],
)
def test_ask_refuses_bad_requests(
    client: TestClient, body: dict[str, Any], status: int, code: str
) -> None:
    _error(client.post("/ask", json=body), status, code)


def test_ask_refuses_a_body_that_is_not_json(client: TestClient) -> None:
    response = client.post("/ask", content=b"question=hi", headers={"Content-Type": "text/plain"})
    _error(response, 422, "invalid_request")


def test_model_errors_become_502_and_an_error_event(
    client: TestClient, fake_llm: ScriptedLiteLLM
) -> None:
    ex = fake_llm.real.exceptions
    refused = ex.AuthenticationError(message="bad key", llm_provider="openai", model=MODEL)
    fake_llm.failures.append(refused)
    message = _error(client.post("/ask", json={"question": "Police?"}), 502, "model_error")
    assert "API key" in message
    fake_llm.failures.append(refused)
    raw = client.post(
        "/ask", json={"question": "Police?"}, headers={"Accept": "text/event-stream"}
    ).text
    last = raw.strip().split("\n\n")[-1]
    assert last.startswith("event: error")
    assert json.loads(last.split("data: ", 1)[1])["code"] == "model_error"


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"q": ""}, 400, "empty_question"),
        ({}, 422, "invalid_request"),
        ({"q": "police", "k": 0}, 422, "invalid_request"),
        ({"q": "police", "k": 101}, 422, "invalid_request"),
    ],
)
def test_search_refuses_bad_queries(
    client: TestClient, params: dict[str, Any], status: int, code: str
) -> None:
    _error(client.get("/search", params=params), status, code)


def test_sources_list_pages_and_details(client: TestClient) -> None:
    page = client.get("/sources", params={"offset": 1, "limit": 1}).json()
    assert (page["total"], page["offset"], page["limit"]) == (3, 1, 1)
    assert [s["id"] for s in page["sources"]] == ["council"]  # sorted: chief, council, river
    assert page["sources"][0]["passages"] == 1
    detail = client.get("/sources/council").json()
    assert detail["title"] == "Council vote" and detail["date"] == "2025-12-11"
    assert "unanimously" in detail["passages"][0]["text"]


@pytest.mark.parametrize("path", ["/sources/nope", "/sources/a/b.md"])
def test_unknown_source_is_404(client: TestClient, path: str) -> None:
    assert "GET /sources" in _error(client.get(path), 404, "unknown_source")


def test_unknown_route_and_method_are_json_errors(client: TestClient) -> None:
    _error(client.get("/nowhere"), 404, "not_found")
    _error(client.put("/search"), 405, "method_not_allowed")


def test_internal_errors_show_no_details(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = _service(client)

    def broken(query: str, k: int) -> None:
        raise RuntimeError("secret internals at /srv/app.py line 3")

    monkeypatch.setattr(service, "search", broken)
    message = _error(client.get("/search", params={"q": "x"}), 500, "internal")
    assert "secret" not in message


def test_page_static_files_and_openapi(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and 'id="ask-form"' in page.text
    assert "textContent" in client.get("/static/app.js").text
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/ask", "/search", "/sources", "/sources/{source_id}", "/index/rebuild"} <= set(paths)
    assert client.get("/docs").status_code == 200


# -- admin ------------------------------------------------------------------------------------
ADMIN_CALLS = [
    ("POST", "/sources"),
    ("DELETE", "/sources/chief"),
    ("POST", "/index/rebuild"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_CALLS)
@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "unauthorized"),
        ({"Authorization": "Bearer wrong"}, 401, "unauthorized"),
        ({"Authorization": f"Basic {TOKEN}"}, 401, "unauthorized"),
    ],
)
def test_admin_endpoints_need_the_token(
    client: TestClient,
    method: str,
    path: str,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    _error(client.request(method, path, headers=headers), status, code)
    assert client.get("/sources/chief").status_code == 200  # nothing changed


@pytest.mark.parametrize(("method", "path"), ADMIN_CALLS)
def test_admin_endpoints_are_off_without_a_configured_token(
    indexed: Settings, fake_llm: ScriptedLiteLLM, method: str, path: str
) -> None:
    for client in _client(indexed, fake_llm, admin_token=None):
        message = _error(client.request(method, path, headers=AUTH), 403, "admin_disabled")
        assert "RAG_ADMIN_TOKEN" in message


def test_upload_indexes_in_the_background_and_is_served(client: TestClient) -> None:
    text = b"The harbor ferry resumes service on Monday after repairs to the pier."
    response = client.post(
        "/sources", headers=AUTH, files=[("files", ("../../etc/ferry news.txt", text))]
    )
    assert response.status_code == 202, response.text
    result = response.json()
    assert result["saved"] == ["ferry_news.txt"] and result["sources"] == 1
    state = _wait_for_jobs(client)
    job = state["jobs"][0]
    assert (job["kind"], job["state"]) == ("upload", "done") and job["report"]["version"] == 2
    assert state["index_version"] == 2 and state["sources"] == 4
    hits = client.get("/search", params={"q": "harbor ferry pier", "k": 1}).json()
    assert hits["index_version"] == 2 and hits["hits"][0]["source_id"] == "ferry_news.txt"
    service = _service(client)
    assert (service.uploads / "ferry_news.txt").read_bytes() == text

    # Deleting an uploaded file removes the file; the next version lacks it.
    assert client.delete("/sources/ferry_news.txt", headers=AUTH).status_code == 202
    state = _wait_for_jobs(client)
    assert state["index_version"] == 3 and state["sources"] == 3
    assert not (service.uploads / "ferry_news.txt").exists()
    _error(client.get("/sources/ferry_news.txt"), 404, "unknown_source")


def test_upload_of_jsonl_lists_bad_lines(client: TestClient) -> None:
    lines = b'{"id": "a1", "title": "A", "text": "Alpha text about the bridge."}\n{broken\n'
    result = client.post("/sources", headers=AUTH, files=[("files", ("more.jsonl", lines))]).json()
    assert result["sources"] == 1
    [skipped] = result["skipped"]
    assert skipped["path"] == str(_service(client).uploads / "more.jsonl") + ":2"
    _wait_for_jobs(client)
    assert client.get("/sources/a1").json()["title"] == "A"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("tool.exe", b"MZ...", "upload files ending in"),
        ("empty.txt", b"", "empty file"),
        ("bad.jsonl", b"{not json}\n", "nothing was uploaded"),
        ("blank.html", b"<html><body>   </body></html>", "nothing was uploaded"),
    ],
)
def test_upload_refuses_files_with_nothing_to_index(
    client: TestClient, name: str, data: bytes, message: str
) -> None:
    response = client.post("/sources", headers=AUTH, files=[("files", (name, data))])
    assert message in _error(response, 400, "bad_request")
    service = _service(client)
    assert not service.uploads.exists() or not any(service.uploads.iterdir())
    assert not service.jobs.recent()


def test_upload_over_the_limit_is_413(indexed: Settings, fake_llm: ScriptedLiteLLM) -> None:
    for client in _client(indexed, fake_llm, max_upload_mb=0.01):
        big = io.BytesIO(b"word " * 5000)  # 25 kB
        response = client.post("/sources", headers=AUTH, files=[("files", ("big.txt", big))])
        assert "MB limit" in _error(response, 413, "too_large")
        # A JSON body has its own, small ceiling.
        _error(client.post("/ask", json={"question": "x" * 70_000}), 413, "too_large")


def test_upload_without_files_is_refused(client: TestClient) -> None:
    _error(client.post("/sources", headers=AUTH), 422, "invalid_request")


def test_delete_excludes_a_corpus_source_and_unknown_is_404(client: TestClient) -> None:
    job = client.delete("/sources/river", headers=AUTH)
    assert job.status_code == 202 and job.json()["kind"] == "delete"
    state = _wait_for_jobs(client)
    assert state["sources"] == 2
    _error(client.get("/sources/river"), 404, "unknown_source")
    _error(client.delete("/sources/river", headers=AUTH), 404, "unknown_source")


def test_searches_use_the_old_version_until_the_rebuild_publishes(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    started = tmp_path / "embedding-started"
    slow = HashEmbedder(model_id=DEFAULT_EMBED_MODEL, delay=1.0, started_marker=started)
    _service(client).jobs.embedder = lambda: slow  # the encoder background builds use
    job = client.post("/index/rebuild", params={"full": True}, headers=AUTH).json()
    assert job["state"] in ("queued", "running") and job["full"] is True
    deadline = time.monotonic() + 20
    while not started.exists():
        assert time.monotonic() < deadline, "the build never started embedding"
        time.sleep(0.02)
    during = client.get("/search", params={"q": "police"}).json()
    status = client.get("/index").json()
    assert during["index_version"] == 1 and status["building"] is True
    assert status["jobs"][0]["state"] == "running" and status["jobs"][0]["task"]
    state = _wait_for_jobs(client)
    assert state["jobs"][0]["state"] == "done" and state["index_version"] == 2
    assert client.get("/search", params={"q": "police"}).json()["index_version"] == 2
    assert client.post("/ask", json={"question": "Police?"}).json()["index_version"] == 2


def test_a_failed_job_is_reported(client: TestClient, indexed: Settings) -> None:
    # Another process building the same index: the job's build is refused.
    with IndexLayout(indexed.index.dir).write_lock():
        client.post("/index/rebuild", headers=AUTH)
        job = _wait_for_jobs(client)["jobs"][0]
    assert job["state"] == "failed" and "another process is building" in job["error"]
    assert client.get("/healthz").json()["index_version"] == 1


def test_rate_limit_per_client(indexed: Settings, fake_llm: ScriptedLiteLLM) -> None:
    for client in _client(indexed, fake_llm, rate_limit_per_minute=3):
        codes = [client.get("/search", params={"q": "police"}).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        limited = client.get("/search", params={"q": "police"})
        assert "RAG_RATE_LIMIT_PER_MINUTE" in _error(limited, 429, "rate_limited")
        assert int(limited.headers["retry-after"]) >= 1
        assert client.get("/healthz").status_code == 200  # not an API call: not limited


# -- small parts --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        # (seconds since start, ...) -> wait returned by each take(); 60/min, burst 60.
        ([0.0] * 60, [0.0] * 60),
        ([0.0] * 61, [0.0] * 60 + [1.0]),
        ([0.0] * 60 + [0.5, 1.0], [0.0] * 60 + [0.5, 0.0]),
    ],
)
def test_rate_limiter_token_bucket(steps: list[float], expected: list[float]) -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    waits = []
    for t in steps:
        now[0] = t
        waits.append(round(limiter.take("1.2.3.4"), 3))
    assert waits == expected
    assert limiter.take("5.6.7.8") == 0.0  # another client has its own bucket


def test_rate_limit_zero_is_off() -> None:
    limiter = RateLimiter(0)
    assert all(limiter.take("c") == 0.0 for _ in range(1000))


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("notes.txt", "notes.txt"),
        ("../../etc/passwd.md", "passwd.md"),
        ("C:\\Users\\me\\report.PDF", "report.PDF"),
        ("my report (final).html", "my_report_final_.html"),
        (".hidden.jsonl", "hidden.jsonl"),
    ],
)
def test_safe_name_keeps_uploads_in_their_folder(given: str, stored: str) -> None:
    assert safe_name(given) == stored


@pytest.mark.parametrize("given", ["", "..", "run.sh", "archive.tar.gz", "noext"])
def test_safe_name_refuses_what_cannot_be_read(given: str) -> None:
    with pytest.raises(ConfigError, match="upload files ending in"):
        safe_name(given)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False)],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_serve_refuses_a_public_address_without_a_token(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["serve", "--host", "0.0.0.0", "--index", str(tmp_path), "--json"]
    )
    assert result.exit_code == 1
    assert "RAG_ADMIN_TOKEN" in json.loads(result.stdout)["error"]["message"]


def test_a_new_version_that_fails_to_open_is_not_served(
    client: TestClient, indexed: Settings, tmp_path: Path
) -> None:
    more = write_corpus(tmp_path / "more.jsonl", [{"id": "m", "title": "M", "text": "Ferry."}])
    build_index(indexed, add=[str(more)], embedder=_embedder())
    (indexed.index.dir / "versions" / "000002" / "manifest.json").unlink()
    assert client.get("/search", params={"q": "police"}).json()["index_version"] == 1
    health = client.get("/healthz").json()
    assert health["index_version"] == 1 and "missing its manifest" in health["problem"]


def test_clients_see_paths_relative_to_their_location_never_this_machines(
    client: TestClient,
) -> None:
    hits = client.get("/search", params={"q": "police"}).json()["hits"]
    answer = client.post("/ask", json={"question": "Do police help ICE?"}).json()
    paths = [h["path"] for h in hits + answer["hits"] + answer["citations"]]
    assert paths and set(paths) == {"c.jsonl"}  # the corpus was registered as that file


# -- metrics ---------------------------------------------------------------------------------
def _samples(client: TestClient) -> dict[str, float]:
    """`GET /metrics` parsed: 'name{labels}' -> value."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def test_metrics_count_requests_answers_stages_and_jobs(client: TestClient) -> None:
    before = _samples(client)
    assert before["rag_index_version"] == 1 and before["rag_index_sources"] == 3
    assert before["rag_ready"] == 1 and before["rag_build_busy"] == 0
    for _ in range(2):
        client.get("/search", params={"q": "police chief ICE", "k": 2})
    client.get("/sources/chief")
    client.get("/sources/no-such-source")
    client.post("/ask", json={"question": "Do police help ICE?"})
    client.post("/index/rebuild", headers=AUTH)
    served = _wait_for_jobs(client)["index_version"]
    after = _samples(client)
    # By route template: a source's id never becomes a label of its own.
    assert after['rag_http_requests_total{method="GET",route="/search",status="200"}'] == 2
    route = 'route="/sources/{source_id:path}"'
    assert after[f'rag_http_requests_total{{method="GET",{route},status="200"}}'] == 1
    assert after[f'rag_http_requests_total{{method="GET",{route},status="404"}}'] == 1
    assert after['rag_http_request_seconds_count{route="/search"}'] == 2
    assert after['rag_answers_total{status="accepted"}'] == 1
    for stage in ("retrieve", "generate", "validate", "total"):
        assert after[f'rag_answer_stage_seconds_count{{stage="{stage}"}}'] == 1
    assert after['rag_llm_tokens_total{kind="completion"}'] >= 0
    assert after['rag_build_jobs_total{kind="rebuild",state="done"}'] == 1
    assert after["rag_index_version"] == served
    assert client.get("/no/such/page").status_code == 404
    assert _samples(client)['rag_http_requests_total{method="GET",route="unmatched",status="404"}']


# -- a client that goes away ------------------------------------------------------------------
class SlowModel(FakeChatModel):
    """Streams its reply a word every 20 ms; counts the words written and the replies that ran
    to their end."""

    def __init__(self, reply: str) -> None:
        super().__init__([reply], name=MODEL)
        self.written = 0
        self.finished = 0

    def stream(
        self,
        messages: Messages,
        on_token: OnToken | None = None,
        max_tokens: int | None = None,
        grammar: str | None = None,
    ) -> Generation:
        text = self.replies[0]
        for piece in re.split(r"(?<=\s)", text):
            time.sleep(0.02)
            self.written += 1
            if on_token is not None:
                on_token(piece)
        self.finished += 1
        return Generation(text=text, model=self.name)


def test_a_streamed_answer_whose_client_leaves_stops_generating(indexed: Settings) -> None:
    long_reply = GOOD + " ".join(["The council met again [1]."] * 100)
    model = SlowModel(long_reply)
    service = Service(_settings(indexed), embedder=_embedder(), models=lambda name, settings: model)
    with serving(create_app(service=service)) as url:
        with httpx.stream(
            "POST",
            f"{url}/ask",
            json={"question": "Do police help ICE?"},
            headers={"Accept": "text/event-stream"},
            timeout=30,
        ) as response:
            for line in response.iter_lines():
                if line == "event: token":
                    break  # the client leaves after the first token
        deadline = time.monotonic() + 10
        while True:
            before = model.written
            time.sleep(0.3)
            if model.written == before or time.monotonic() > deadline:
                break
        total = len(re.split(r"(?<=\s)", long_reply))
        assert model.written < total / 4 and model.finished == 0, (model.written, total)
        # The next request is answered.
        model.replies = [GOOD]
        answer = httpx.post(f"{url}/ask", json={"question": "Do police help ICE?"}, timeout=30)
        assert answer.status_code == 200 and model.finished == 1
