"""Format readers: bytes of one file in, title/text/metadata out. Each raises IngestError."""

from __future__ import annotations

import io
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from rag.errors import IngestError
from rag.text import strip_controls

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
PDF_SUFFIXES = (".pdf",)
JSONL_SUFFIXES = (".jsonl",)
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + PDF_SUFFIXES + JSONL_SUFFIXES

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_KEYS = ("title", "url", "date")


@dataclass(frozen=True)
class Document:
    """What a reader found in one file (a JSONL corpus gives many)."""

    title: str | None
    text: str
    url: str | None = None
    date: str | None = None
    id: str | None = None


def normalize_text(text: str) -> str:
    """NFC, unix newlines, no control characters or trailing spaces, at most one blank line
    between paragraphs."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = strip_controls(text)
    lines = [re.sub(r"[ \t\f\v\u00a0]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def decode_utf8(data: bytes, name: str) -> str:
    """Strict UTF-8 (a BOM is allowed); binary or other encodings are refused with the fix."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or data[:4] == b"\x00\x00\xfe\xff":
        raise IngestError(
            name,
            "UTF-16 or UTF-32 text (it starts with a byte-order mark); convert it to UTF-8, "
            "e.g. `iconv -f utf-16 -t utf-8`",
        )
    if b"\x00" in data[:8192]:
        raise IngestError(
            name, "binary file (contains NUL bytes); only text, HTML and PDF are read"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(
            name,
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "convert it, e.g. `iconv -f latin1 -t utf-8`",
        ) from exc


def read_text(data: bytes, name: str) -> Document:
    """Plain text or markdown; optional `---` front matter with title, url, date."""
    text = decode_utf8(data, name)
    meta: dict[str, str] = {}
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if match:
        for line in match.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip().lower() in _FRONT_KEYS:
                meta[key.strip().lower()] = value.strip().strip("\"'")
        text = text[match.end() :]
    text = normalize_text(text)
    title = meta.get("title") or _first_line_title(text)
    return Document(title=title, text=text, url=meta.get("url"), date=meta.get("date"))


def _first_line_title(text: str) -> str | None:
    """A short first line (or a markdown heading) is the title, as in most saved articles."""
    first, _, rest = text.partition("\n")
    first = first.lstrip("#").strip()
    if first and rest.strip() and len(first) <= 150:
        return first
    return None


def read_pdf(data: bytes, name: str) -> Document:
    """Text of every page; encrypted, broken or image-only PDFs are refused with the fix."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError(name, "encrypted PDF; decrypt it first, e.g. `qpdf --decrypt`")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
    except IngestError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise IngestError(
            name, f"broken PDF ({type(exc).__name__}: {exc}); re-save or repair it"
        ) from exc
    text = normalize_text("\n\n".join(pages))
    if not text:
        raise IngestError(
            name, "PDF has no extractable text (scanned images?); run OCR on it first"
        )
    title = str(info.title).strip() if info is not None and info.title else None
    return Document(title=title or None, text=text)


def read_jsonl(data: bytes, name: str) -> Iterator[Document | IngestError]:
    """One source a line: {"id", "title", "text", "url"?, "date"?}; a bad line yields its error."""
    text = decode_utf8(data, name)
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{name}:{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield IngestError(where, f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(record, dict):
            yield IngestError(where, "a corpus line must be a JSON object with id and text")
            continue
        doc_id, body = record.get("id"), record.get("text")
        if isinstance(doc_id, int) and not isinstance(doc_id, bool):
            doc_id = str(doc_id)
        if not isinstance(doc_id, str) or not doc_id.strip():
            yield IngestError(where, "missing or empty 'id' (a non-empty string is required)")
            continue
        if not isinstance(body, str) or not body.strip():
            yield IngestError(where, f"source {doc_id!r} has no 'text' (a non-empty string)")
            continue
        fields = {k: record.get(k) for k in ("title", "url", "date")}
        bad = [k for k, v in fields.items() if v is not None and not isinstance(v, str)]
        if bad:
            yield IngestError(where, f"source {doc_id!r}: {', '.join(bad)} must be strings")
            continue
        yield Document(
            id=doc_id.strip(),
            title=fields["title"],
            text=normalize_text(body),
            url=fields["url"],
            date=fields["date"],
        )
