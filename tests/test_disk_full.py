"""A disk that fills up part-way (a small tmpfs mounted for the test; root only): a build, an
upload and an eval run each stop with an error naming the disk and the fix, nothing published
or written before is lost or half-written, and the next try after space is freed succeeds."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers.data import synthetic_text, write_corpus
from helpers.fakes import HashEmbedder, ScriptedLiteLLM, scripted_models

from rag.config import DEFAULT_EMBED_MODEL, Settings
from rag.errors import DiskFullError
from rag.evaluate.run import RESULTS, run_eval
from rag.index.build import build_index
from rag.index.verify import verify_index
from rag.retrieve.search import Searcher
from rag.serve.app import create_app
from rag.serve.service import Service
from rag.store import IndexLayout, IndexReader

pytestmark = pytest.mark.slow


def _embedder() -> HashEmbedder:
    return HashEmbedder(model_id=DEFAULT_EMBED_MODEL)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs at tmp_path/disk, unmounted after the test."""
    mount = tmp_path / "disk"
    mount.mkdir()
    reason = "needs root to mount a small tmpfs (a disk that fills up)"
    if os.geteuid() != 0:
        pytest.skip(reason)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"{reason}; mount said: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def grow(disk: Path, megabytes: int) -> None:
    """Free space: the tmpfs made larger."""
    subprocess.run(["mount", "-o", f"remount,size={megabytes}m", str(disk)], check=True)


def fill(disk: Path, leave: int) -> Path:
    """A file taking all but about `leave` bytes of the disk."""
    stat = os.statvfs(disk)
    free = stat.f_bavail * stat.f_frsize
    filler = disk / "filler"
    with filler.open("wb") as fh:
        fh.write(b"\0" * max(0, free - leave))
    return filler


def corpus(path: Path, n: int, offset: int = 0) -> Path:
    rows = [
        {"id": f"s{i}", "title": f"T{i}", "text": synthetic_text(i)}
        for i in range(offset, offset + n)
    ]
    return write_corpus(path, rows)


def test_a_build_that_fills_the_disk_keeps_the_served_version(
    settings: Settings, disk: Path, tmp_path: Path
) -> None:
    on_disk = settings.updated(index_dir=disk / "index")
    build_index(on_disk, add=[str(corpus(tmp_path / "a.jsonl", 20))], embedder=_embedder())
    big = corpus(tmp_path / "b.jsonl", 3000, offset=1000)
    with pytest.raises(DiskFullError) as full:
        build_index(on_disk, add=[str(big)], embedder=_embedder())
    message = str(full.value)
    assert f"no space left on the disk holding {disk / 'index'}" in message
    assert "version 1 is still served" in message and "free space there" in message
    layout = IndexLayout(on_disk.index.dir)
    assert layout.current_version() == 1 and not list(layout.versions.glob(".build-*"))
    reader = IndexReader.open(on_disk.index.dir)
    assert reader.manifest.sources == 20
    assert Searcher(reader, on_disk.search, _embedder()).search("Item7 sentence", k=3)
    reader.close()
    assert verify_index(on_disk).ok

    grow(disk, 64)
    report = build_index(on_disk, add=[str(big)], embedder=_embedder())
    assert report.version == 2 and report.sources.added == 3000
    assert verify_index(on_disk).ok and verify_index(on_disk).leftovers == []


def test_an_upload_on_a_full_disk_is_refused_and_nothing_is_kept(
    settings: Settings, disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    on_disk = settings.updated(
        index_dir=disk / "index", admin_token="tok", llm_model="openai/gpt-4o-mini"
    )
    build_index(on_disk, add=[str(corpus(tmp_path / "a.jsonl", 20))], embedder=_embedder())
    filler = fill(disk, leave=20_000)
    service = Service(
        on_disk, embedder=_embedder(), models=scripted_models(ScriptedLiteLLM([], reply="x"))
    )
    text = ("The harbor ferry resumes service on Monday after repairs. " * 2000).encode()
    auth = {"Authorization": "Bearer tok"}
    with TestClient(create_app(service=service)) as client:
        refused = client.post("/sources", headers=auth, files=[("files", ("ferry.txt", text))])
        assert refused.status_code == 507 and refused.json()["code"] == "disk_full"
        assert "nothing was uploaded" in refused.json()["message"]
        assert not [p.name for p in service.uploads.iterdir()]  # no half-saved file
        assert client.get("/healthz").json()["index_version"] == 1
        filler.unlink()
        taken = client.post("/sources", headers=auth, files=[("files", ("ferry.txt", text))])
        assert taken.status_code == 202
        assert service.jobs.wait(timeout=60)
        assert client.get("/healthz").json()["index_version"] == 2


def test_an_eval_run_on_a_full_disk_keeps_its_results_and_continues(
    settings: Settings, disk: Path, tmp_path: Path
) -> None:
    build_index(settings, add=[str(corpus(tmp_path / "a.jsonl", 60))], embedder=_embedder())
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"q{i}",
                    "question": f"Item{i % 60} sentence {i % 6} mentions what?",
                    "answers": [f"Item{i % 60}"],
                    "evidence": [f"s{i % 60}"],
                    "answerable": True,
                }
            )
            + "\n"
            for i in range(300)
        )
    )
    out = disk / "run"
    filler = fill(disk, leave=60_000)
    with pytest.raises(DiskFullError, match="run the same command again: it continues"):
        run_eval(gold, settings, retrieval_only=True, out=out, embedder=_embedder())
    kept = [line for line in (out / RESULTS).read_text().splitlines() if line.endswith("}")]
    assert kept, "some results were written before the disk filled"
    filler.unlink()
    grow(disk, 64)
    run = run_eval(gold, settings, retrieval_only=True, out=out, embedder=_embedder())
    assert run.resumed >= len(kept) - 1 and len(run.records) == 300
