"""A build killed with SIGKILL leaves the last published version opening and answering."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import synthetic_text, write_corpus
from fakes import HashEmbedder

from rag.build import build_index
from rag.config import Settings
from rag.retrieve import Searcher
from rag.store import IndexLayout, IndexReader

HERE = Path(__file__).parent


def corpus_of(path: Path, n: int, offset: int = 0) -> Path:
    return write_corpus(
        path,
        [
            {"id": f"s{i}", "title": f"T{i}", "text": synthetic_text(i)}
            for i in range(offset, offset + n)
        ],
    )


@pytest.mark.parametrize("kill_after_blocks", [1, 3])
def test_sigkill_mid_rebuild_keeps_previous_version(
    settings: Settings, tmp_path: Path, kill_after_blocks: int
) -> None:
    corpus = corpus_of(tmp_path / "c.jsonl", 50)
    build_index(settings, add=[str(corpus)], embedder=HashEmbedder())
    before = Searcher(IndexReader.open(settings.index_dir), settings, HashEmbedder())
    expected = before.search("Item7 sentence harbor", k=5)

    # A second location with enough passages for several slow embedding blocks.
    more = corpus_of(tmp_path / "more.jsonl", 1500, offset=1000)
    marker = tmp_path / "marker"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "slow_build.py"),
            str(settings.index_dir),
            str(more),
            str(marker),
        ],
        env={**os.environ, "PYTHONPATH": str(HERE.parent)},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if marker.exists() and int(marker.read_text() or 0) >= kill_after_blocks:
                break
            assert proc.poll() is None, "the build ended before it could be killed"
            time.sleep(0.02)
        else:
            pytest.fail("the build never started embedding")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    layout = IndexLayout(settings.index_dir)
    assert layout.current_version() == 1
    assert list(layout.versions.glob(".build-*")), "the killed build left its work folder"
    reader = IndexReader.open(settings.index_dir)
    assert reader.version == 1 and reader.manifest.locations == [str(corpus)]
    assert (
        Searcher(reader, settings, HashEmbedder()).search("Item7 sentence harbor", k=5) == expected
    )

    # The next build cleans up after the dead one and publishes normally.
    report = build_index(settings, add=[str(more)], embedder=HashEmbedder())
    assert report.version == 2 and report.sources.added == 1500
    assert not list(layout.versions.glob(".build-*"))
