"""Plan: which sources a build writes and deletes, and the counts it reports."""

from __future__ import annotations

import pytest

from rag.index.scan import Scan, plan
from rag.types import Source


def scan_of(read: dict[str, str], carried: set[str]) -> Scan:
    scan = Scan(carried=set(carried))
    for sid, text in read.items():
        scan.read[sid] = Source.create(id=sid, title=sid, text=text)
    return scan


def hash_of(sid: str, text: str) -> str:
    return Source.hash_of(sid, sid, text, None, None)


PREVIOUS = {"a": hash_of("a", "old a"), "b": hash_of("b", "b"), "c": hash_of("c", "c")}


@pytest.mark.parametrize(
    ("read", "carried", "incremental", "counts", "to_write", "to_delete"),
    [
        # a changed, b carried unread, c gone, d new
        ({"a": "new a", "d": "d"}, {"b"}, True, (1, 1, 1, 1), ["a", "d"], ["a", "c"]),
        # b re-read but unchanged: nothing to write or delete
        ({"b": "b"}, {"a", "c"}, True, (0, 0, 0, 3), [], []),
        # full rebuild: everything present is written, nothing deleted from a fresh version
        ({"a": "old a", "b": "b"}, set(), False, (0, 0, 1, 2), ["a", "b"], []),
        # first build: all added
        ({"x": "x", "y": "y"}, set(), True, (2, 0, 3, 0), ["x", "y"], ["a", "b", "c"]),
    ],
)
def test_plan(
    read: dict[str, str],
    carried: set[str],
    incremental: bool,
    counts: tuple[int, int, int, int],
    to_write: list[str],
    to_delete: list[str],
) -> None:
    work = plan(scan_of(read, carried), PREVIOUS, incremental)
    c = work.counts
    assert (c.added, c.changed, c.removed, c.unchanged) == counts
    assert work.to_write == to_write
    assert work.to_delete == to_delete


def test_nothing_new() -> None:
    assert plan(scan_of({}, {"a", "b", "c"}), PREVIOUS, True).nothing_new
    assert not plan(scan_of({}, {"a", "b"}), PREVIOUS, True).nothing_new
