"""Corpora and files to index: synthetic prose, a small news corpus with model replies about
it, an HTML article and PDFs; and where the shared QA sets are."""

from __future__ import annotations

import io
import json
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

WORD_LIST = (
    "council police ordinance federal agents river bridge budget school court judge county "
    "mayor protest warrant county sheriff transit housing library museum festival harbor "
    "election senate clinic vaccine farmer drought orchard factory union strike railway"
)
WORDS = WORD_LIST.split()


def synthetic_text(n: int, sentences: int = 6) -> str:
    """Deterministic prose for source number n: distinct words, real sentence ends."""
    out = []
    for s in range(sentences):
        words = [WORDS[(n * 7 + s * 3 + i * 5) % len(WORDS)] for i in range(12)]
        out.append(f"Item{n} sentence {s} mentions " + " ".join(words) + ".")
    return " ".join(out)


def write_corpus(path: Path, records: list[dict[str, str]]) -> Path:
    """Write a corpus JSONL file."""
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


# A small news corpus, and what a model might write about it.
CORPUS = [
    {
        "id": "chief",
        "title": "Chief statement",
        "date": "2025-12-16",
        "url": "https://e.org/c",
        "text": "The police chief said officers do not cooperate with ICE. Safety comes first.",
    },
    {
        "id": "council",
        "title": "Council vote",
        "date": "2025-12-11",
        "text": "The council voted unanimously on December 11 to strengthen the ordinance.",
    },
    {"id": "river", "title": "River cleanup", "text": "Volunteers cleaned the river banks."},
]
# k=2 retrieves the chief's statement as [1] and the river cleanup as [2].
RAW = (
    "## Summary\nNo. Volunteers cleaned the river banks [2]. The police chief said officers do "
    "not cooperate with ICE [1]. The council acted [1, 9].\n"
    """## 1. Volunteers
Volunteers cleaned the river banks [2].
## Bottom line
The police chief said officers do not cooperate with ICE [1].
## What the sources cannot settle
Individual cases.
## Follow-up questions
- What did the audit find?
"""
)
GOOD = RAW.replace(" The council acted [1, 9].", "")
UNSUPPORTED = """## Summary
Officers patrol the harbor every night with ICE agents [1]. The mayor approved it in 2019 [2].
"""


ARTICLE_HTML = b"""<!doctype html><html><head><title>Council votes on ordinance</title>
<meta property="article:published_time" content="2025-12-11">
<link rel="canonical" href="https://example.org/council">
<script>var tracking = "do not index me";</script><style>p { color: red }</style></head>
<body><nav><a href="/">Home</a> | <a href="/news">News</a></nav>
<header>Site banner</header>
<article><h1>Council votes</h1><p>The council voted <b>unanimously</b> on Thursday.</p>
<p>The ordinance limits cooperation.</p></article>
<aside>Subscribe now</aside><footer>Copyright footer</footer></body></html>"""


def make_pdf(text: str, password: str | None = None) -> bytes:
    """A one-page PDF with `text`, optionally encrypted."""
    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 10, text)
    pdf.set_title("A report title")
    data = bytes(pdf.output())
    if password is None:
        return data
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(password)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
