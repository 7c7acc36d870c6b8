"""The bad-input catalogue: each kind of broken file, request and question, and what the service
does with it. Files go through a real build next to a good file: the bad one is reported with
its reason and skipped, the good one is indexed. docs/hardening.md lists every case by id."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from helpers.data import CORPUS, GOOD, make_pdf, write_corpus
from helpers.fakes import HashEmbedder, ScriptedLiteLLM, scripted_models

from rag.answer.answerer import ask
from rag.answer.question import clean_question
from rag.cli.app import cli
from rag.cli.common import Runtime
from rag.config import DEFAULT_EMBED_MODEL, Settings, load_settings
from rag.errors import QuestionError
from rag.index.build import build_index
from rag.retrieve.search import Searcher
from rag.serve.app import create_app
from rag.serve.service import Service
from rag.store import IndexReader

GOOD_TEXT = b"Harbor report\nThe ferry resumes service on Monday after repairs to the pier."
Setup = Callable[[Path], None]


def files(**named: bytes) -> Setup:
    def setup(folder: Path) -> None:
        for name, data in named.items():
            (folder / name.replace("__", ".")).write_bytes(data)

    return setup


def dir_link_to_parent(folder: Path) -> None:
    (folder / "sub").mkdir()
    (folder / "sub" / "loop").symlink_to(folder, target_is_directory=True)


def file_link_loop(folder: Path) -> None:
    (folder / "a.txt").symlink_to(folder / "b.txt")
    (folder / "b.txt").symlink_to(folder / "a.txt")


def broken_link(folder: Path) -> None:
    (folder / "gone.txt").symlink_to(folder / "never-existed.txt")


def link_outside(folder: Path) -> None:
    secret = folder.parent / "outside-secret.txt"
    secret.write_text("Secret outside the registered folder.\nDo not index this text.")
    (folder / "innocent.txt").symlink_to(secret)


def undecodable_name(folder: Path) -> None:
    with open(os.path.join(os.fsencode(folder), b"caf\xe9-notes.txt"), "wb") as fh:
        fh.write(b"Text in a file whose name is Latin-1.")


def named_pipe(folder: Path) -> None:
    os.mkfifo(folder / "pipe.txt")  # reading it would block the build forever


def duplicate_ids(folder: Path) -> None:
    write_corpus(folder / "a.jsonl", [{"id": "dup", "text": "The first copy of the source."}])
    write_corpus(folder / "b.jsonl", [{"id": "dup", "text": "A second source with that id."}])


def jsonl(*lines: str) -> bytes:
    good = json.dumps({"id": "ok-line", "title": "Fine", "text": "A fine corpus line."})
    return ("\n".join([good, *lines]) + "\n").encode()


DEEP_HTML = ("<div>" * 100_000 + "deep" + "</div>" * 100_000).encode()

# (id, what is put next to good.txt, words of the reported reason; "" = nothing is refused)
FILE_CASES: list[tuple[str, Setup, str]] = [
    ("binary", files(blob__txt=b"\x00\x01\x02\x03binary\x00"), "binary file"),
    ("latin-1 text", files(latin__txt="caf\u00e9 cr\u00e8me".encode("latin-1")), "not valid UTF-8"),
    ("utf-16 text", files(wide__txt="Hello there.".encode("utf-16")), "UTF-16 or UTF-32 text"),
    ("zero bytes", files(empty__md=b""), "empty file"),
    ("whitespace only", files(blank__txt=b"  \n\n\t \n"), "no text left"),
    ("front matter only", files(meta__md=b"---\ntitle: T\n---\n"), "no text left"),
    ("over the size limit", files(huge__txt=b"word " * 500_000), "over the 2.0 MB limit"),
    ("deeply nested HTML", files(deep__html=DEEP_HTML), "nested over 1000 elements deep"),
    ("HTML with only scripts", files(js__html=b"<script>var a = 1;</script>"), "no text left"),
    ("broken PDF", files(broken__pdf=b"%PDF-1.4\n1 0 obj << garbage"), "broken PDF"),
    ("encrypted PDF", files(locked__pdf=make_pdf("secret", password="pw")), "encrypted PDF"),
    ("PDF without text", files(blank__pdf=make_pdf(" ")), "no extractable text"),
    ("unsupported type", files(image__png=b"\x89PNG\r\n\x1a\n"), "unsupported file type '.png'"),
    ("no extension", files(README=b"text"), "unsupported file type '(none)'"),
    ("JSONL: invalid JSON", files(c__jsonl=jsonl("{broken")), "not valid JSON"),
    ("JSONL: not an object", files(c__jsonl=jsonl("[1, 2]")), "must be a JSON object"),
    ("JSONL: no id", files(c__jsonl=jsonl('{"text": "x"}')), "missing or empty 'id'"),
    ("JSONL: empty text", files(c__jsonl=jsonl('{"id": "e", "text": " "}')), "has no 'text'"),
    (
        "JSONL: wrong field type",
        files(c__jsonl=jsonl('{"id": "w", "text": "t", "title": 5}')),
        "title must be strings",
    ),
    ("duplicate ids", duplicate_ids, "duplicate source id 'dup'"),
    ("link to a parent folder (loop)", dir_link_to_parent, "link to a folder, not followed"),
    ("links to each other (loop)", file_link_loop, "broken or looping link"),
    ("broken link", broken_link, "broken or looping link"),
    ("link outside the registered folder", link_outside, "outside the registered location"),
    ("file name not UTF-8", undecodable_name, "file name is not valid UTF-8"),
    ("named pipe", named_pipe, "not a regular file"),
    (
        "terminal escapes and bidi overrides in text",
        files(esc__txt=b"Alert\n\x1b[31mRed\x1b[0m text \xe2\x80\xaereversed\xe2\x80\xac here."),
        "",
    ),
    (
        "unknown charset declared",
        files(
            odd__html=b'<html><head><meta charset="x-no-such"></head><body><p>Caf\xe9.</p></body>'
        ),
        "",
    ),
    ("one huge line", files(line__txt=b"word " * 15_000), ""),
]


@pytest.mark.parametrize(
    ("setup", "reason"), [pytest.param(*case[1:], id=case[0]) for case in FILE_CASES]
)
def test_bad_file_is_reported_and_the_rest_indexed(
    settings: Settings, tmp_path: Path, setup: Setup, reason: str
) -> None:
    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "good.txt").write_bytes(GOOD_TEXT)
    setup(folder)
    settings = settings.updated(max_file_mb=2.0)
    report = build_index(settings, add=[str(folder)], embedder=HashEmbedder())
    failed = report.sources.failed
    if reason:
        assert [f for f in failed if reason in f.reason], failed
        json.dumps(report.model_dump())  # every path and reason prints as JSON
    else:
        assert failed == []
    reader = IndexReader.open(settings.index.dir)
    assert reader.meta.source("good.txt") is not None
    searcher = Searcher(reader, settings.search, HashEmbedder())
    assert searcher.search("ferry pier repairs", k=1)[0].source_id == "good.txt"
    # Nothing outside the folder and no control character got in.
    for sid in reader.meta.source_ids():
        text = reader.meta.source(sid).text  # type: ignore[union-attr]
        assert "Secret outside" not in text
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e]", text)
    for row in reader.meta.passages_by_vec_ids(reader.meta.all_vec_ids()).values():
        assert len(row.passage.text.split()) <= settings.chunk.max_words


def test_markup_in_a_title_is_printed_as_written(tmp_path: Path) -> None:
    given = Runtime(embedder=HashEmbedder(model_id=DEFAULT_EMBED_MODEL))
    title = "Report [/bold] [red]final[/red] [link=x]"
    corpus = write_corpus(tmp_path / "c.jsonl", [{"id": "t", "title": title, "text": "Ferry."}])
    index = ["--index", str(tmp_path / "ix")]
    assert CliRunner().invoke(cli, ["index", "add", str(corpus), *index], obj=given).exit_code == 0
    result = CliRunner().invoke(cli, ["search", "ferry", *index], obj=given)
    assert result.exit_code == 0 and title in result.stdout


# -- requests and questions through the HTTP service -----------------------------------------
@pytest.fixture
def client(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    fake = ScriptedLiteLLM([], reply=GOOD)
    embedder = HashEmbedder(model_id=DEFAULT_EMBED_MODEL)
    build_index(settings, add=[str(write_corpus(tmp_path / "c.jsonl", CORPUS))], embedder=embedder)
    served = load_settings(
        index_dir=settings.index.dir,
        validate_mode="fast",
        llm_model="openai/gpt-4o-mini",
        rate_limit_per_minute=0,
        answer_k=2,
    )
    app = create_app(service=Service(served, embedder=embedder, models=scripted_models(fake)))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


JSON = {"Content-Type": "application/json"}
# (id, body sent to POST /ask, status, error code or "" for an answer)
REQUEST_CASES: list[tuple[str, bytes, int, str]] = [
    ("empty body", b"", 422, "invalid_request"),
    ("truncated JSON", b'{"question": "Police?"', 422, "invalid_request"),
    ("JSON array", b'["Police?"]', 422, "invalid_request"),
    ("JSON string", b'"Police?"', 422, "invalid_request"),
    ("unknown field", b'{"question": "Police?", "tempreature": 0}', 422, "invalid_request"),
    ("null question", b'{"question": null}', 422, "invalid_request"),
    ("question as a list", b'{"question": ["a", "b"]}', 422, "invalid_request"),
    ("k as a float", b'{"question": "Police?", "k": 2.5}', 422, "invalid_request"),
    ("k far too large", b'{"question": "Police?", "k": 100000}', 422, "invalid_request"),
    ("invalid UTF-8 body", b'{"question": "caf\xe9"}', 422, "invalid_request"),
    (
        "deeply nested JSON",
        b'{"question": "a", "k": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        422,
        "invalid_request",
    ),
    ("oversized body", json.dumps({"question": "x" * 70_000}).encode(), 413, "too_large"),
    (
        "control characters only",
        json.dumps({"question": "\x00\x1b\x07"}).encode(),
        400,
        "empty_question",
    ),
    (
        "too long a question",
        json.dumps({"question": "why " * 600}).encode(),
        400,
        "question_too_long",
    ),
    (
        "control characters in a question",
        json.dumps({"question": "Police\x1b[2J and ICE?\x00"}).encode(),
        200,
        "",
    ),
    ("Chinese", json.dumps({"question": "警察是否协助移民局\uff1f"}).encode(), 200, ""),
    (
        "Arabic, right to left",
        json.dumps({"question": "هل تساعد الشرطة وكالة الهجرة؟"}).encode(),
        200,
        "",
    ),
    ("emoji and symbols only", json.dumps({"question": "🚓❓🤝🛂"}).encode(), 200, ""),
    ("stopwords only", json.dumps({"question": "the of and is it?"}).encode(), 200, ""),
]


@pytest.mark.parametrize(
    ("body", "status", "code"), [pytest.param(*case[1:], id=case[0]) for case in REQUEST_CASES]
)
def test_bad_request_gets_a_clear_status_and_message(
    client: TestClient, body: bytes, status: int, code: str
) -> None:
    response = client.post("/ask", content=body, headers=JSON)
    assert response.status_code == status, response.text
    data = response.json()
    if code:
        assert data["code"] == code and data["message"] and "Traceback" not in data["message"]
    else:
        assert data["status"] in ("accepted", "repaired", "abstained")
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", data["question"])


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"q": "\x00\x1b"}, 400),
        ({"q": "警察"}, 200),
        ({"q": "police", "k": "ten"}, 422),
        ({"q": "police", "mode": "nonsense"}, 200),  # an unknown parameter is ignored on GET
    ],
)
def test_search_query_strings(client: TestClient, params: dict[str, str], status: int) -> None:
    assert client.get("/search", params=params).status_code == status


@pytest.mark.parametrize(
    ("question", "cleaned", "error"),
    [
        ("  Police\tand ICE?\n", "Police and ICE?", None),
        ("Police\x1b[31m?\x00", "Police[31m?", None),
        ("\u202eEsrever\u202c text", "Esrever text", None),
        ("Cafe\u0301?", "Caf\u00e9?", None),  # NFC: one code point, as the sources are stored
        ("\x00\x07 \x1b", None, "empty_question"),
        ("x" * 2001, None, "question_too_long"),
    ],
)
def test_clean_question(question: str, cleaned: str | None, error: str | None) -> None:
    if error is None:
        assert clean_question(question, 2000) == cleaned
    else:
        with pytest.raises(QuestionError) as caught:
            clean_question(question, 2000)
        assert caught.value.code == error


def test_the_library_refuses_an_empty_question_too(settings: Settings) -> None:
    with pytest.raises(QuestionError, match="the question is empty"):
        ask(" \x00 ", settings=settings)


def test_the_hardening_doc_lists_every_case() -> None:
    """docs/hardening.md is the table of what was tried: every case here and in the fault
    tests has its row."""
    from test_faults import CASES as FAULT_CASES

    doc = (Path(__file__).parents[1] / "docs" / "hardening.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip() for line in doc.splitlines() if line.startswith("| ")}
    names = [c[0] for c in FILE_CASES] + [c[0] for c in REQUEST_CASES]
    names += [c[0] for c in FAULT_CASES]
    assert [n for n in names if n not in rows] == []
