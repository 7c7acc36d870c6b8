"""Scan: registered locations now vs the last version -> what to add, re-embed and delete."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.ingest.files import FoundFile, find_files, read_file
from rag.progress import Reporter
from rag.store.meta import FileRecord, MetaDB
from rag.types import Source, SourceCounts, SourceFailure


@dataclass
class Scan:
    """What the registered locations hold now."""

    read: dict[str, Source] = field(default_factory=dict)
    carried: set[str] = field(default_factory=set)
    files: list[FileRecord] = field(default_factory=list)
    failures: list[SourceFailure] = field(default_factory=list)
    origin: dict[str, str] = field(default_factory=dict)

    @property
    def present(self) -> set[str]:
        """Every source id the new version holds."""
        return set(self.read) | self.carried

    def claim(self, source_id: str, path: str) -> bool:
        """Register where a source id came from; a second file with the same id fails."""
        if source_id in self.origin:
            self.failures.append(
                SourceFailure(
                    path=path,
                    reason=f"duplicate source id {source_id!r} "
                    f"(first in {self.origin[source_id]}); give each source its own id",
                )
            )
            return False
        self.origin[source_id] = path
        return True


@dataclass(frozen=True)
class Plan:
    """The work of a build: sources to (re)write and to delete, and the counts to report."""

    counts: SourceCounts
    to_write: list[str]
    to_delete: list[str]

    @property
    def nothing_new(self) -> bool:
        """No source was added, changed or removed."""
        return self.counts.added == self.counts.changed == self.counts.removed == 0


def scan_locations(
    locations: Sequence[str],
    excluded: set[str],
    added_roots: Sequence[str],
    previous: MetaDB | None,
    max_bytes: int,
    reporter: Reporter,
) -> Scan:
    """Read what changed since `previous` (everything without it); updates `excluded` in place.

    A file whose size and mtime match the last scan is carried over unread. Sources under a
    location being added again leave the excluded list.
    """
    scan = Scan()
    found: dict[str, FoundFile] = {}
    for location in locations:
        for item in find_files(location):
            if isinstance(item, SourceFailure):
                scan.failures.append(item)
            else:
                # A file under two registered locations (a folder and the file itself) is one
                # file: read once, under the location registered first.
                found.setdefault(item.path, item)
    known_files = previous.files() if previous is not None else {}
    stored = set(previous.source_ids()) if previous is not None else set()
    with reporter.task("reading sources", len(found)) as tick:
        for item in found.values():
            is_added = any(item.path == r or item.path.startswith(r + os.sep) for r in added_roots)
            record = known_files.get(item.path)
            if is_added and record:
                excluded.difference_update(record.source_ids)
            # Carried over unread only if unchanged on disk and every source is stored.
            if (
                record
                and (record.size, record.mtime_ns) == (item.size, item.mtime_ns)
                and all(s in stored or s in excluded for s in record.source_ids)
            ):
                ids = [s for s in record.source_ids if scan.claim(s, item.path)]
                scan.carried.update(s for s in ids if s not in excluded)
                scan.files.append(record)
            else:
                result = read_file(item, max_bytes)
                scan.failures.extend(result.failures)
                ids = [s.id for s in result.sources if scan.claim(s.id, item.path)]
                if is_added:
                    excluded.difference_update(ids)
                claimed = set(ids)  # a list here made a file of n sources cost n^2 / 2 lookups
                scan.read.update(
                    (s.id, s) for s in result.sources if s.id in claimed and s.id not in excluded
                )
                # A file with bad lines is re-read every time, so its failures stay visible.
                if not result.failures:
                    scan.files.append(FileRecord(item.path, item.size, item.mtime_ns, ids))
            tick()
    return scan


def plan(scan: Scan, previous: dict[str, str], incremental: bool) -> Plan:
    """Compare with the last version's content hashes; incremental keeps what did not change."""
    present = scan.present
    changed_or_new = sorted(
        s for s, src in scan.read.items() if previous.get(s) != src.content_hash
    )
    counts = SourceCounts(
        added=sum(1 for s in changed_or_new if s not in previous),
        changed=sum(1 for s in changed_or_new if s in previous),
        removed=sum(1 for s in previous if s not in present),
        failed=scan.failures,
    )
    counts.unchanged = len(present) - counts.added - counts.changed
    if not incremental:
        return Plan(counts=counts, to_write=sorted(present), to_delete=[])
    changed = set(changed_or_new)  # a list here cost len(previous) x len(changed) lookups
    doomed = sorted(s for s in previous if s not in present or s in changed)
    return Plan(counts=counts, to_write=changed_or_new, to_delete=doomed)
