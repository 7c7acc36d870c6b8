"""SQLite metadata of one index version: sources, passages and the files they came from."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.types import Passage, Source

SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    url TEXT,
    date TEXT,
    path TEXT,
    content_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS passages (
    id TEXT PRIMARY KEY,
    vec_id INTEGER NOT NULL UNIQUE,
    source_id TEXT NOT NULL REFERENCES sources(id),
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    embed_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_source ON passages(source_id);
CREATE INDEX IF NOT EXISTS passages_embed_hash ON passages(embed_hash);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    source_ids TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class FileRecord:
    """A file as last read: if size and mtime still match, its sources are carried over."""

    path: str
    size: int
    mtime_ns: int
    source_ids: list[str]


@dataclass(frozen=True)
class PassageRow:
    """A passage joined with its source's fields, as search returns it."""

    passage: Passage
    vec_id: int
    url: str | None
    date: str | None
    path: str | None


_PASSAGE_SELECT = (
    "SELECT p.id, p.source_id, p.ordinal, p.start, p.end, p.text, s.title, p.vec_id, "
    "s.url, s.date, s.path FROM passages p JOIN sources s ON s.id = p.source_id"
)


class MetaDB:
    """One version's SQLite file; read-only once the version is published."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @classmethod
    def open_readonly(cls, path: Path) -> MetaDB:
        """A published version never changes, so it is opened immutable: no locks, no journal."""
        conn = sqlite3.connect(
            f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False
        )
        return cls(conn)

    @classmethod
    def create(cls, path: Path, copy_from: MetaDB | None = None) -> MetaDB:
        """A writable database for a version being built, optionally a copy of the last one."""
        conn = sqlite3.connect(path)
        if copy_from is not None:
            copy_from.conn.backup(conn)
        # The file is thrown away if the build dies, so durability comes from fsync at publish.
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.executescript(SCHEMA)
        return cls(conn)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    # -- reads -------------------------------------------------------------------------------
    def count(self, table: str) -> int:
        """Rows in `sources`, `passages` or `files`."""
        assert table in ("sources", "passages", "files")
        return int(self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def source_hashes(self) -> dict[str, str]:
        """Content hash of every source by id."""
        return dict(self.conn.execute("SELECT id, content_hash FROM sources"))

    def files(self) -> dict[str, FileRecord]:
        """Every file read last time, by path."""
        return {
            path: FileRecord(path, size, mtime, json.loads(ids))
            for path, size, mtime, ids in self.conn.execute("SELECT * FROM files")
        }

    def vec_ids_of_sources(self, source_ids: Iterable[str]) -> list[int]:
        """FAISS ids of every passage of these sources."""
        out: list[int] = []
        for batch in _batches(list(source_ids)):
            marks = ",".join("?" * len(batch))
            out.extend(
                row[0]
                for row in self.conn.execute(
                    f"SELECT vec_id FROM passages WHERE source_id IN ({marks})", batch
                )
            )
        return out

    def vec_ids_by_embed_hash(self, hashes: Iterable[str]) -> dict[str, int]:
        """For each embed hash already stored, one vec id whose vector can be reused."""
        out: dict[str, int] = {}
        for batch in _batches(list(hashes)):
            marks = ",".join("?" * len(batch))
            out.update(
                self.conn.execute(
                    f"SELECT embed_hash, MIN(vec_id) FROM passages WHERE embed_hash IN ({marks}) "
                    "GROUP BY embed_hash",
                    batch,
                )
            )
        return out

    def passages_by_vec_ids(self, vec_ids: list[int]) -> dict[int, PassageRow]:
        """Passages (with source fields) for these FAISS ids."""
        out: dict[int, PassageRow] = {}
        for batch in _batches(vec_ids):
            marks = ",".join("?" * len(batch))
            for row in self.conn.execute(f"{_PASSAGE_SELECT} WHERE p.vec_id IN ({marks})", batch):
                out[row[7]] = _row(row)
        return out

    def passages_of_source(self, source_id: str) -> list[Passage]:
        """A source's passages in order."""
        rows = self.conn.execute(
            f"{_PASSAGE_SELECT} WHERE p.source_id = ? ORDER BY p.ordinal", (source_id,)
        )
        return [_row(r).passage for r in rows]

    def iter_lexical(self) -> Iterator[tuple[int, str, str]]:
        """(vec_id, title, text) of every passage in vec id order, for the BM25 index."""
        yield from self.conn.execute(
            "SELECT p.vec_id, s.title, p.text FROM passages p JOIN sources s ON s.id = p.source_id "
            "ORDER BY p.vec_id"
        )

    def iter_titles(self) -> Iterator[tuple[int, str, str]]:
        """(vec_id, source_id, title) of every passage, for title links."""
        yield from self.conn.execute(
            "SELECT p.vec_id, p.source_id, s.title FROM passages p "
            "JOIN sources s ON s.id = p.source_id"
        )

    def source(self, source_id: str) -> Source | None:
        """One source by id."""
        row = self.conn.execute(
            "SELECT id, title, text, url, date, path, content_hash FROM sources WHERE id = ?",
            (source_id,),
        ).fetchone()
        if row is None:
            return None
        keys = ("id", "title", "text", "url", "date", "path", "content_hash")
        return Source(**dict(zip(keys, row, strict=True)))

    def source_page(self, offset: int, limit: int) -> list[dict[str, object]]:
        """Sources sorted by id from `offset`, at most `limit`, with their passage counts."""
        rows = self.conn.execute(
            "SELECT s.id, s.title, s.url, s.date, "
            "(SELECT COUNT(*) FROM passages p WHERE p.source_id = s.id) "
            "FROM sources s ORDER BY s.id LIMIT ? OFFSET ?",
            (limit, offset),
        )
        keys = ("id", "title", "url", "date", "passages")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def source_ids(self) -> list[str]:
        """Every source id, sorted."""
        return [r[0] for r in self.conn.execute("SELECT id FROM sources ORDER BY id")]

    def all_vec_ids(self) -> list[int]:
        """Every passage's FAISS id."""
        return [r[0] for r in self.conn.execute("SELECT vec_id FROM passages ORDER BY vec_id")]

    # -- writes (only on a version being built) --------------------------------------------
    def delete_sources(self, source_ids: Iterable[str]) -> int:
        """Delete sources and their passages; returns passages deleted."""
        deleted = 0
        for batch in _batches(list(source_ids)):
            marks = ",".join("?" * len(batch))
            deleted += self.conn.execute(
                f"DELETE FROM passages WHERE source_id IN ({marks})", batch
            ).rowcount
            self.conn.execute(f"DELETE FROM sources WHERE id IN ({marks})", batch)
        return deleted

    def insert_source(self, source: Source) -> None:
        """Insert one source."""
        self.conn.execute(
            "INSERT INTO sources (id, title, text, url, date, path, content_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                source.id,
                source.title,
                source.text,
                source.url,
                source.date,
                source.path,
                source.content_hash,
            ),
        )

    def insert_passages(self, rows: Iterable[tuple[Passage, int, str]]) -> None:
        """Insert (passage, vec_id, embed_hash) rows."""
        self.conn.executemany(
            "INSERT INTO passages (id, vec_id, source_id, ordinal, start, end, text, embed_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(p.id, v, p.source_id, p.ordinal, p.start, p.end, p.text, h) for p, v, h in rows],
        )

    def replace_files(self, records: Iterable[FileRecord]) -> None:
        """Make the files table exactly these records."""
        self.conn.execute("DELETE FROM files")
        self.conn.executemany(
            "INSERT INTO files (path, size, mtime_ns, source_ids) VALUES (?, ?, ?, ?)",
            [(r.path, r.size, r.mtime_ns, json.dumps(r.source_ids)) for r in records],
        )

    def commit(self) -> None:
        """Commit pending writes."""
        self.conn.commit()


def _row(row: tuple[object, ...]) -> PassageRow:
    pid, sid, ordinal, start, end, text, title, vec_id, url, date, path = row
    passage = Passage(
        id=str(pid),
        source_id=str(sid),
        ordinal=int(str(ordinal)),
        start=int(str(start)),
        end=int(str(end)),
        text=str(text),
        title=str(title),
    )
    return PassageRow(
        passage=passage,
        vec_id=int(str(vec_id)),
        url=None if url is None else str(url),
        date=None if date is None else str(date),
        path=None if path is None else str(path),
    )


def _batches(items: list[str] | list[int], size: int = 500) -> Iterator[list[str] | list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
