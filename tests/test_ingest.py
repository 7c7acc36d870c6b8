"""Ingest: each format read right, each bad file reported by name with its reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.data import ARTICLE_HTML, make_pdf

from rag.ingest.files import FoundFile, find_files, read_file
from rag.ingest.readers import normalize_text
from rag.types import SourceFailure

MB = 1_000_000


def found(path: Path, root: Path) -> FoundFile:
    st = path.stat()
    return FoundFile(path=str(path), root=str(root), size=st.st_size, mtime_ns=st.st_mtime_ns)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "note.txt",
            b"Police statement\nThe chief said officers do not enforce immigration law.",
            {"title": "Police statement", "text_has": "officers do not enforce", "id": "note.txt"},
        ),
        (
            "front.md",
            b"---\ntitle: Ordinance update\ndate: 2025-12-11\nurl: https://example.org/x\n---\n"
            b"# Heading\n\nThe council voted.",
            {
                "title": "Ordinance update",
                "date": "2025-12-11",
                "url": "https://example.org/x",
                "text_has": "The council voted.",
            },
        ),
        (
            "bom.txt",
            "\ufeffTitle line\r\nBody with \u00e9 accents.\r\n".encode(),
            {"title": "Title line", "text_has": "Body with \u00e9 accents."},
        ),
        (
            "single.txt",
            b"Only one line of text here.",
            {"title": "single", "text_has": "Only one line"},
        ),
        (
            "page.html",
            ARTICLE_HTML,
            {
                "title": "Council votes on ordinance",
                "date": "2025-12-11",
                "url": "https://example.org/council",
                "text_has": "The council voted unanimously on Thursday.",
                "text_lacks": [
                    "tracking",
                    "color",
                    "Home",
                    "Site banner",
                    "Subscribe",
                    "Copyright",
                ],
            },
        ),
        (
            "latin.html",
            '<html><head><meta charset="iso-8859-1"><title>Caf\u00e9</title></head>'
            "<body><main><p>Cr\u00e8me br\u00fbl\u00e9e.</p></main></body></html>".encode(
                "latin-1"
            ),
            {"title": "Caf\u00e9", "text_has": "Cr\u00e8me br\u00fbl\u00e9e."},
        ),
        (
            "report.pdf",
            make_pdf("The county signed an agreement in March."),
            {"title": "A report title", "text_has": "county signed an agreement"},
        ),
    ],
)
def test_reads_each_format(
    tmp_path: Path, name: str, content: bytes, expected: dict[str, Any]
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = read_file(found(path, tmp_path), 10 * MB)
    assert result.failures == []
    [source] = result.sources
    assert source.id == expected.get("id", name)
    assert source.title == expected["title"]
    assert expected["text_has"] in source.text
    for absent in expected.get("text_lacks", []):
        assert absent not in source.text
    for key in ("date", "url"):
        if key in expected:
            assert getattr(source, key) == expected[key]
    assert source.path == str(path)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("blob.txt", b"\x00\x01\x02binary\x00", "binary file"),
        ("latin.txt", "caf\u00e9 cr\u00e8me".encode("latin-1"), "not valid UTF-8"),
        ("empty.md", b"", "empty file"),
        ("blank.txt", b"   \n\n  \n", "no text left"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage", "PDF"),
        ("locked.pdf", make_pdf("secret text", password="pw"), "encrypted PDF"),
        ("image.png", b"\x89PNG\r\n\x1a\n", "unsupported file type '.png'"),
        ("noext", b"text", "unsupported file type '(none)'"),
        ("huge.txt", b"word " * 300_000, "over the 1.0 MB limit"),
    ],
)
def test_bad_files_are_reported_with_reason(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = read_file(found(path, tmp_path), 1 * MB)
    assert result.sources == []
    [failure] = result.failures
    assert failure.path == str(path)
    assert reason in failure.reason


def test_jsonl_reads_good_lines_and_reports_bad_ones(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_text(
        '{"id": "a", "title": "A", "text": "First source.", "url": "https://e.org/a"}\n'
        "\n"
        "not json\n"
        '{"id": "b", "text": "No title given."}\n'
        '{"title": "no id", "text": "x"}\n'
        '{"id": "c", "text": ""}\n'
        "[1, 2]\n"
        '{"id": 7, "text": "Numeric id."}\n'
        '{"id": "d", "text": "t", "date": 2020}\n',
        encoding="utf-8",
    )
    result = read_file(found(path, tmp_path), MB)
    assert [(s.id, s.title) for s in result.sources] == [("a", "A"), ("b", "b"), ("7", "7")]
    assert result.sources[0].url == "https://e.org/a"
    reasons = {f.path.rsplit(":", 1)[1]: f.reason for f in result.failures}
    assert set(reasons) == {"3", "5", "6", "7", "9"}
    assert "not valid JSON" in reasons["3"]
    assert "missing or empty 'id'" in reasons["5"]
    assert "has no 'text'" in reasons["6"]
    assert "JSON object" in reasons["7"]
    assert "must be strings" in reasons["9"]


def test_find_files_walks_sorted_and_skips_hidden(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    for rel in ("b/z.txt", "a.md", ".hidden.txt", ".git/config.txt", "b/y.html"):
        (tmp_path / rel).write_text("x")
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "missing.txt")
    items = list(find_files(str(tmp_path)))
    files = [i.relpath for i in items if isinstance(i, FoundFile)]
    assert files == ["a.md", "b/y.html", "b/z.txt"]
    failures = [i for i in items if isinstance(i, SourceFailure)]
    assert [Path(f.path).name for f in failures] == ["dangling.txt"]


def test_a_registered_file_gets_its_name_as_id(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "doc.txt"
    path.parent.mkdir()
    path.write_text("Title\nBody.")
    [item] = list(find_files(str(path)))
    assert isinstance(item, FoundFile) and item.relpath == "doc.txt"


def test_missing_location_is_a_failure_not_a_crash(tmp_path: Path) -> None:
    [item] = list(find_files(str(tmp_path / "gone")))
    assert isinstance(item, SourceFailure) and "no longer exists" in item.reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\r\nb", "a\nb"),
        ("  a  \t b  ", "a b"),
        ("a\n\n\n\nb", "a\n\nb"),
        ("e\u0301", "\u00e9"),
        ("x\x00y", "xy"),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected
