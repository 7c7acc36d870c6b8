"""Crashes and concurrency: a build killed with SIGKILL anywhere leaves the last published version
opening, answering and checking ok; readers keep working during a rebuild; two rebuilds at once
are serialized by the lock, the second refused with a clear message.

Kills and holds happen at the points a build passes (rag.progress.checkpoint, switched on by
RAG_TEST_ variables), never after a time: the tests pass the same on a slow or busy machine."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.data import synthetic_text, write_corpus
from helpers.fakes import HashEmbedder
from helpers.stores import STORES, STORES_SHARED

from rag.config import DEFAULT_EMBED_MODEL, Settings
from rag.index.build import build_index
from rag.index.verify import verify_index
from rag.progress import CHECKPOINTS_FILE
from rag.retrieve.search import Searcher
from rag.store import IndexLayout, IndexReader
from rag.store.milvus_conn import close_clients

# Builds are killed on FAISS, on a Milvus Lite folder (the killed process ran the engine) and
# on a Milvus server; readers in another process need FAISS or a server (Lite: one process).
ALL_STORES = pytest.mark.parametrize("settings", [*STORES, "milvus-server"], indirect=True)
SHARED_STORES = pytest.mark.parametrize("settings", STORES_SHARED, indirect=True)

HERE = Path(__file__).parent
QUERY = "Item7 sentence harbor"


def fake() -> HashEmbedder:
    return HashEmbedder(model_id=DEFAULT_EMBED_MODEL)


def corpus_of(path: Path, n: int, offset: int = 0) -> Path:
    return write_corpus(
        path,
        [
            {"id": f"s{i}", "title": f"T{i}", "text": synthetic_text(i)}
            for i in range(offset, offset + n)
        ],
    )


def start(
    settings: Settings, marker: Path, delay: float, *args: str, **hooks: str
) -> subprocess.Popen[str]:
    """`rag ARGS --index DIR` in a subprocess, with a fake embedder sleeping `delay` a block and
    the build's points recorded in `marker`.points; `hooks`: KILL_AT=n, or HOLD_AT=n and HOLD
    (a file the build waits on while it exists). (A Milvus Lite folder is let go first: one
    process at a time may hold it.)"""
    marker.unlink(missing_ok=True)
    points(marker).unlink(missing_ok=True)
    close_clients()
    env = {
        **os.environ,
        "PYTHONPATH": str(HERE),
        "RAG_STORE": settings.store.backend,
        CHECKPOINTS_FILE: str(points(marker)),
        **{f"RAG_TEST_{name}": value for name, value in hooks.items()},
    }
    if settings.store.milvus_uri:
        env["RAG_MILVUS_URI"] = settings.store.milvus_uri
    return subprocess.Popen(
        [
            sys.executable,
            str(HERE / "helpers" / "slow_rag.py"),
            str(marker),
            str(delay),
            *args,
            "--index",
            str(settings.index.dir),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def points(marker: Path) -> Path:
    """The file a build started with `marker` records its points in."""
    return marker.with_suffix(".points")


def passed(marker: Path) -> list[str]:
    """The points the build has passed, in order."""
    path = points(marker)
    return (
        [line.split(" ", 1)[1] for line in path.read_text().splitlines()] if path.exists() else []
    )


def wait_for_point(marker: Path, proc: subprocess.Popen[str], n: int) -> None:
    """Until the build has passed its n-th point (where a hold keeps it)."""
    deadline = time.monotonic() + 120
    while len(passed(marker)) < n:
        assert proc.poll() is None, f"the build ended first: {proc.communicate()}"
        assert time.monotonic() < deadline, f"the build never reached point {n}"
        time.sleep(0.01)


def search(settings: Settings) -> tuple[int, list[str]]:
    reader = IndexReader.open(settings.index.dir)
    try:
        hits = Searcher(reader, settings.search, fake()).search(QUERY, k=5)
        return reader.version, [h.passage_id for h in hits]
    finally:
        reader.close()


@ALL_STORES
@pytest.mark.parametrize("kill_after_blocks", [1, 3])
def test_sigkill_mid_embedding_keeps_previous_version(
    settings: Settings, tmp_path: Path, kill_after_blocks: int
) -> None:
    corpus = corpus_of(tmp_path / "c.jsonl", 50)
    build_index(settings, add=[str(corpus)], embedder=fake())
    expected = search(settings)

    more = corpus_of(tmp_path / "more.jsonl", 1500, offset=1000)
    marker = tmp_path / "marker"
    # Point 1 is the scan; each embedded block is one more.
    kill_at = str(1 + kill_after_blocks)
    proc = start(settings, marker, 0.0, "index", "add", str(more), KILL_AT=kill_at)
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.communicate()
    assert passed(marker) == ["scanned"] + ["embedded a block"] * kill_after_blocks

    layout = IndexLayout(settings.index.dir)
    assert layout.current_version() == 1
    assert list(layout.versions.glob(".build-*")), "the killed build left its work folder"
    reader = IndexReader.open(settings.index.dir)
    assert reader.version == 1 and reader.manifest.locations == [str(corpus)]
    assert search(settings) == expected

    # The next build cleans up after the dead one and publishes normally.
    report = build_index(settings, add=[str(more)], embedder=fake())
    assert report.version == 2 and report.sources.added == 1500
    assert not list(layout.versions.glob(".build-*"))


@pytest.mark.slow
@ALL_STORES
def test_sigkill_at_random_points_never_breaks_the_index(
    settings: Settings, tmp_path: Path
) -> None:
    """20 builds (adds, removes, full rebuilds) each killed at a point drawn over a whole
    build's points: scan, embedding blocks, SQLite, BM25, vectors, manifest, fsync, rename,
    CURRENT swap."""
    rng = random.Random(20261121)
    corpora = [corpus_of(tmp_path / f"c{i}.jsonl", 120, offset=1000 * i) for i in range(6)]
    build_index(settings, add=[str(corpora[0])], embedder=fake())
    marker = tmp_path / "marker"

    # One build run to its end, to learn its points.
    proc = start(settings, marker, 0.0, "index", "add", str(corpora[1]))
    assert proc.wait(timeout=120) == 0, proc.communicate()
    every = passed(marker)
    assert every[0] == "scanned" and every[-1] == "CURRENT swapped", every
    registered = {str(corpora[0]), str(corpora[1])}

    killed = 0
    for trial in range(20):
        before = IndexReader.open(settings.index.dir)
        version, sources = before.version, before.manifest.sources
        before.close()
        # A build killed between renaming its version folder into place and swapping CURRENT
        # leaves that number taken: the next publish is one past every version on disk.
        publishes_as = IndexLayout(settings.index.dir).next_version()
        unregistered = [str(c) for c in corpora if str(c) not in registered]
        op = rng.choice(["add", "remove", "full"] if len(registered) > 1 else ["add", "full"])
        target = rng.choice(unregistered if op == "add" else sorted(registered))
        args = {
            "add": ["index", "add", target],
            "remove": ["index", "remove", target],
            "full": ["index", "rebuild", "--full"],
        }[op]
        kill_at = rng.randint(1, len(every))
        proc = start(settings, marker, 0.0, *args, KILL_AT=str(kill_at))
        proc.wait(timeout=120)
        # Killed exactly when the build had that many points (a remove embeds nothing).
        reached = passed(marker)
        assert (proc.returncode == -signal.SIGKILL) == (len(reached) == kill_at), (trial, reached)
        if proc.returncode != 0:
            assert proc.returncode == -signal.SIGKILL, proc.communicate()
            killed += 1

        # Whatever was hit, the index opens, searches and its parts agree.
        after = IndexReader.open(settings.index.dir)
        assert after.version in (version, publishes_as), (trial, version, publishes_as)
        if after.version != version:  # the build published before the kill: all of it
            registered = (
                registered | {target}
                if op == "add"
                else registered - {target}
                if op == "remove"
                else registered
            )
        assert set(after.manifest.locations) == registered, (trial, op)
        assert after.manifest.sources == 120 * len(registered)
        assert (after.version == version) == (after.manifest.sources == sources) or op == "full"
        after.close()
        assert search(settings)[1], trial
        report = verify_index(settings)
        assert report.ok, (trial, op, report.problems)
    assert killed >= 12, f"only {killed} of 20 builds were killed: the draw should kill most"

    # The next build clears what the dead ones left and publishes normally.
    build = build_index(settings, full=True, embedder=fake())
    assert build.version == IndexLayout(settings.index.dir).current_version()
    assert verify_index(settings).leftovers == []


@SHARED_STORES
def test_readers_keep_answering_while_a_rebuild_runs(settings: Settings, tmp_path: Path) -> None:
    build_index(settings, add=[str(corpus_of(tmp_path / "c.jsonl", 50))], embedder=fake())
    first = search(settings)
    marker, hold = tmp_path / "marker", tmp_path / "hold"
    hold.touch()
    more = corpus_of(tmp_path / "m.jsonl", 800, offset=1000)
    # Held after its first embedded block, until the readers have searched.
    proc = start(settings, marker, 0.0, "index", "add", str(more), HOLD_AT="2", HOLD=str(hold))
    wait_for_point(marker, proc, 2)
    seen = [search(settings) for _ in range(6)]
    hold.unlink()
    while proc.poll() is None:
        seen.append(search(settings))
    assert proc.returncode == 0, proc.communicate()
    seen.append(search(settings))
    versions = [v for v, _ in seen]
    assert versions == sorted(versions) and versions[0] == 1 and versions[-1] == 2
    assert all(result == first for result in seen if result[0] == 1)


@ALL_STORES
def test_two_rebuilds_at_once_one_is_refused_with_a_clear_message(
    settings: Settings, tmp_path: Path
) -> None:
    build_index(settings, add=[str(corpus_of(tmp_path / "c.jsonl", 50))], embedder=fake())
    first_marker, second_marker, hold = tmp_path / "m1", tmp_path / "m2", tmp_path / "hold"
    hold.touch()
    # The first holds the lock, stopped after its scan until the second has been refused.
    first = start(
        settings, first_marker, 0.0, "index", "rebuild", "--full", HOLD_AT="1", HOLD=str(hold)
    )
    wait_for_point(first_marker, first, 1)
    second = start(settings, second_marker, 0.0, "index", "add", str(tmp_path / "c.jsonl"))
    _, err = second.communicate(timeout=120)
    hold.unlink()
    assert second.returncode == 4
    assert "another process is building the index" in err and "run the command again" in err
    assert first.wait(timeout=120) == 0
    layout = IndexLayout(settings.index.dir)
    assert layout.current_version() == 2 and verify_index(settings).ok
