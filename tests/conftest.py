"""Shared fixtures: settings in a temporary index folder, a fake embedder, the shared data, the
`rag` command in a subprocess. What tests share besides fixtures is in helpers/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.commands import RagRunner, install_wheel, offline_runner
from helpers.data import CORPUS, SHARED_DATA, write_corpus
from helpers.fakes import HashEmbedder
from helpers.stores import milvus_server

from rag.config import DEFAULT_EMBED_MODEL, Settings, load_settings
from rag.index.build import build_index
from rag.store.milvus_conn import close_clients

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings with the index in a temporary folder; claims checked by the fast layer alone
    (tests that need the judge give it a scripted one). FAISS, unless a test module asks for
    each store in turn (Milvus: a Milvus Lite folder inside the index, or a server). Answers
    are composed by sections unless the test module sets COMPOSE = "single" (the one-draft
    path, its repair round and its streamed draft)."""
    store = getattr(request, "param", "faiss")
    index = tmp_path / "index"
    compose = getattr(request.module, "COMPOSE", "sections")
    if store != "milvus-server":
        yield load_settings(index_dir=index, validate_mode="fast", store=store, compose=compose)
        if store == "milvus":
            close_clients()
        return
    with milvus_server(tmp_path / "milvus-server") as uri:
        yield load_settings(
            index_dir=index, validate_mode="fast", store="milvus", milvus_uri=uri, compose=compose
        )
        close_clients()


@pytest.fixture(autouse=True)
def _compose(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A module's COMPOSE reaches commands that read settings from the environment too."""
    compose = getattr(request.module, "COMPOSE", None)
    if compose is not None:
        monkeypatch.setenv("RAG_COMPOSE", compose)


@pytest.fixture
def index(settings: Settings, tmp_path: Path) -> Settings:
    """The settings, with the demo corpus (helpers/data.py CORPUS) indexed by the fake
    embedder under the default model's name. A module may override it, asking for this one."""
    build_index(
        settings,
        add=[str(write_corpus(tmp_path / "c.jsonl", CORPUS))],
        embedder=HashEmbedder(model_id=DEFAULT_EMBED_MODEL),
    )
    return settings


@pytest.fixture
def embedder() -> HashEmbedder:
    """A fresh fake embedder per test."""
    return HashEmbedder()


@pytest.fixture
def shared_data() -> Iterator[Path]:
    """The shared QA sets, or a clean skip where they are absent."""
    if not (SHARED_DATA / "hotpotqa" / "corpus.jsonl").is_file():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    yield SHARED_DATA


@pytest.fixture
def offline_rag(tmp_path: Path) -> RagRunner:
    """The `rag` command in a subprocess on a fresh index, with JSON output and with any network
    use doomed to fail (helpers/commands.py)."""
    return offline_runner(tmp_path / "index")


@pytest.fixture(scope="session")
def wheel_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a virtual environment with rag installed from its wheel (built once)."""
    return install_wheel(REPO, tmp_path_factory.mktemp("wheel"))


@pytest.fixture
def count_tokenized(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many texts each BM25 tokenize call was given."""
    import rag.store.lexical as lexical

    calls: list[int] = []
    real = lexical.tokenize

    def counting(texts: list[str]) -> list[list[str]]:
        calls.append(len(texts))
        return real(texts)

    monkeypatch.setattr(lexical, "tokenize", counting)
    return calls
