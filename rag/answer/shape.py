"""The fact-check shape: model markdown -> summary, numbered sections, bottom line, limits,
follow-ups; and back to canonical markdown. Lenient: small models drift from the format."""

from __future__ import annotations

import re

from rag.text import strip_markers
from rag.types import Answer, AnswerSections, Section
from rag.validate.claims import heading_kind, line_sentences

_HEADING = re.compile(r"^\s*(?:#{1,6}\s*|\*\*)(.+?)(?:\*\*)?\s*:?\s*$")
_INLINE_LABEL = re.compile(
    r"^\s*\**(summary|executive summary|bottom line|what the sources cannot settle)"
    r"(?:\s*:\s*\*\*|\*\*\s*:|\s*:)\s*(.+)$",
    re.I,
)
_LIST_ITEM = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")


def _clean_heading(heading: str) -> str:
    heading = re.sub(r"^\d+[.)]\s*", "", heading.strip().strip("*#").strip())
    return heading.strip("<> ").strip()


def _blocks(text: str) -> list[tuple[str, str]]:
    """(heading, body) pairs; text before the first heading has the heading ''."""
    blocks: list[tuple[str, list[str]]] = [("", [])]
    for line in text.splitlines():
        heading = _HEADING.match(line)
        label = _INLINE_LABEL.match(line)
        if label:
            blocks.append((label.group(1), [label.group(2)]))
        elif heading and len(heading.group(1)) <= 120 and not heading.group(1).endswith("."):
            blocks.append((heading.group(1), []))
        else:
            blocks[-1][1].append(line)
    return [(h, "\n".join(b).strip()) for h, b in blocks if h or "\n".join(b).strip()]


def _join(parts: list[str]) -> str:
    return "\n\n".join(p for p in parts if p)


def parse_answer(text: str) -> AnswerSections:
    """The parts of an answer; whatever has no recognizable heading becomes a section."""
    out = AnswerSections()
    loose: list[str] = []
    for heading, body in _blocks(text):
        kind = heading_kind(heading) if heading else "loose"
        if kind == "summary":
            out.summary = _join([out.summary, body])
        elif kind == "bottom_line":
            out.bottom_line = _join([out.bottom_line, body])
        elif kind == "limits":
            out.limits = _join([out.limits, body])
        elif kind == "follow_ups":
            out.follow_ups.extend(
                _LIST_ITEM.sub("", line).strip()
                for line in body.splitlines()
                if line.strip() and (_LIST_ITEM.match(line) or line.strip().endswith("?"))
            )
        elif kind == "section" and body:
            out.sections.append(Section(heading=_clean_heading(heading), text=body))
        elif body:
            loose.append(body)
    if loose:
        # Text outside any heading: the summary if there is none, else a section of its own.
        if not out.summary:
            out.summary = _join(loose)
        else:
            out.sections.insert(0, Section(heading="Details", text=_join(loose)))
    if not out.summary and out.sections:
        out.summary = out.sections.pop(0).text
    return out


def render_answer(parts: AnswerSections, checked_on: str | None = None) -> str:
    """Canonical markdown of an answer's parts."""
    lines = ["## Summary", parts.summary or "(no summary)"]
    for n, section in enumerate(parts.sections, start=1):
        lines += ["", f"## {n}. {section.heading}", section.text]
    if parts.bottom_line:
        lines += ["", "## Bottom line", parts.bottom_line]
    if parts.limits:
        lines += ["", "## What the sources cannot settle", parts.limits]
    if parts.follow_ups:
        lines += ["", "## Want to dive deeper?", *(f"- {q}" for q in parts.follow_ups)]
    if checked_on:
        lines += ["", f"_Checked on {checked_on}._"]
    return "\n".join(lines).strip() + "\n"


def with_sources(answer: Answer) -> str:
    """The answer as markdown for a reader elsewhere (a chat client, an assistant): its text,
    what the checks did, and each [n] with its source and the quote behind it."""
    moved = sum(c.reattributed for c in answer.checks)
    status = {
        "accepted": "Every cited sentence was checked against its passage and holds.",
        "repaired": f"Every cited sentence was checked against its passage and holds; "
        f"{len(answer.dropped_sentences)} sentence(s) that did not hold were cut and {moved} "
        "given the passage that holds them.",
        "abstained": "The sources found do not support an answer; what is shown is what they "
        "do say, checked.",
        "unvalidated": "Not checked against the sources.",
    }[answer.status]
    lines = [answer.text.rstrip(), "", f"_{status}_", "", "## Sources"]
    for c in answer.citations:
        where = c.url or c.path or c.source_id
        date = f" ({c.date})" if c.date else ""
        lines.append(f"[{c.n}] {c.title}{date}, {where}: \u201c{c.quote}\u201d")
    if not answer.citations:
        lines.append("(none cited)")
    return "\n".join(lines) + "\n"


def drop_repeats(text: str) -> str:
    r"""`text` with each sentence shown once: a later sentence with the same words as an
    earlier one (whatever it cites) goes, and a line left empty with it; headings stay.

    >>> drop_repeats("## Summary\nA is so [1]. A is so [1].\n## Bottom line\n- A is so [2].\n")
    '## Summary\nA is so [1].\n## Bottom line\n'
    """
    seen: set[str] = set()
    kept = []
    for line in text.splitlines(keepends=True):
        if _HEADING.match(line) and not _INLINE_LABEL.match(line):
            kept.append(line)
            continue
        marker = _LIST_ITEM.match(line)
        prefix = marker.group(0) if marker else ""
        parts = line_sentences(line[len(prefix) :].rstrip("\r\n"))
        left = []
        for part in parts:
            key = " ".join(re.findall(r"\w+", strip_markers(part).lower()))
            if key and key in seen:
                continue
            seen.add(key)
            left.append(part)
        if len(left) == len(parts):
            kept.append(line)
        elif left:
            kept.append(prefix + " ".join(left) + "\n")
    return "".join(kept)
