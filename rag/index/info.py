"""Info: what the current index version holds and what built it."""

from __future__ import annotations

from pydantic import Field

from rag.config import Settings
from rag.store import IndexReader
from rag.store.manifest import Manifest
from rag.types import Contract


class IndexInfo(Contract):
    """`rag index info --json`."""

    index_dir: str = Field(description="Index folder.")
    version: int = Field(description="Current published version.")
    versions_on_disk: list[int] = Field(description="Published versions kept on disk.")
    size_bytes: int = Field(description="Bytes used by the current version's files.")
    manifest: Manifest = Field(description="The current version's manifest.")

    def rows(self) -> list[tuple[str, str]]:
        """Label/value pairs for the terminal."""
        m = self.manifest
        build = m.last_build
        failed = len(build.sources.failed) if build else 0
        return [
            ("index", self.index_dir),
            (
                "version",
                f"{self.version} (published {m.created_at}; on disk {self.versions_on_disk})",
            ),
            ("sources", str(m.sources)),
            ("passages", str(m.passages)),
            ("model", f"{m.embedding.model_id} (dimension {m.embedding.dimension})"),
            (
                "chunking",
                f"{m.chunking.target_words} words target, {m.chunking.max_words} max, "
                f"{m.chunking.overlap_words} overlap",
            ),
            ("vectors", m.vectors.describe()),
            ("size", f"{self.size_bytes / 1e6:.1f} MB"),
            ("locations", "\n".join(m.locations) or "(none)"),
            ("excluded", ", ".join(m.excluded) or "(none)"),
            ("last build", f"{failed} source(s) failed" if build else "unknown"),
        ]


def index_info(settings: Settings) -> IndexInfo:
    """What the current version of the configured index holds."""
    reader = IndexReader.open(settings.index.dir, settings.store.token)
    try:
        size = sum(p.stat().st_size for p in reader.folder.rglob("*") if p.is_file())
        return IndexInfo(
            index_dir=str(reader.layout.root),
            version=reader.version,
            versions_on_disk=reader.layout.published(),
            size_bytes=size,
            manifest=reader.manifest,
        )
    finally:
        reader.close()
