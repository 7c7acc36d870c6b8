"""Claims: an answer's text -> the sentences it asserts, each with the numbers it cites.

Headings, connective lines ("Here is what the sources say:"), follow-up questions and a plain
"the sources do not answer" are not claims; sentences under "what the sources cannot settle"
need no citation (they say what is missing) but are checked if they cite."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text import MARKER, cited_numbers, split_sentences

_HEADING = re.compile(r"^\s*#{1,6}\s+\S|^\s*\*\*[^*]+\*\*\s*:?\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")
_LEADING_MARKERS = re.compile(rf"^(?:\s*{MARKER.pattern})+")
_CITED_STOP = re.compile(rf"({MARKER.pattern}[.!?])\s+(?=[a-z])")
# A list run onto one line: "... Yuan dynasty. - The major achievements were ... [1]."
_INLINE_ITEM = re.compile(rf"([.!?](?:\s*{MARKER.pattern})*)\s+[-*\u2022\u2013]\s+(?=\S)")
_CHECKED_ON = re.compile(r"^_?Checked on .*_?$", re.I)
_NO_ANSWER = re.compile(
    r"\b(?:sources?|passages?)\b.{0,40}\b(?:do(?:es)? not|don't|doesn't|cannot|can't)\b"
    r".{0,30}\b(?:answer|say|settle|mention|address|cover|support|tell)",
    re.I,
)
_WORD = re.compile(r"[A-Za-z0-9]+")
_KIND_PATTERNS = (
    ("summary", re.compile(r"^(executive\s+)?summary|^short answer|^answer$", re.I)),
    ("bottom_line", re.compile(r"bottom\s*line|^conclusion", re.I)),
    (
        "limits",
        re.compile(
            r"cannot settle|can.?t settle|open questions|limitations|unknown|"
            r"unclear|not (?:settle|answer)",
            re.I,
        ),
    ),
    ("follow_ups", re.compile(r"follow.?up|dive deeper|further questions|next questions", re.I)),
)
_MIN_CLAIM_WORDS = 4


def heading_kind(heading: str) -> str:
    """summary, bottom_line, limits, follow_ups or section."""
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(heading):
            return kind
    return "section"


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer."""

    text: str  # as written, markers included
    citations: list[int]  # numbers cited, in order
    section: str  # summary, section, bottom_line, limits, follow_ups
    needs_citation: bool  # a factual statement that must cite


def says_no_answer(text: str) -> bool:
    """Whether `text` says the sources do not answer (or settle, or mention) the question."""
    return bool(_NO_ANSWER.search(MARKER.sub(" ", text)))


def is_fragment(sentence: str) -> bool:
    """Too few words to state anything a passage could be checked for ("WRVU [2].").

    >>> is_fragment("WRVU [2]."), is_fragment("The station is WRVU [2].")
    (True, False)
    """
    return len(_WORD.findall(MARKER.sub(" ", sentence))) < _MIN_CLAIM_WORDS


def _is_connective(sentence: str) -> bool:
    """Too short to assert anything ("No.", "In short:") or a lead-in to what follows."""
    return MARKER.sub(" ", sentence).strip().endswith(":") or is_fragment(sentence)


def line_sentences(line: str) -> list[str]:
    """Sentences of one line; markers that open a sentence go back to the one before it."""
    # "No. The chief said ..." : the splitter keeps "No." with what follows (as in "No. 5").
    line = re.sub(r"^((?:Yes|No)[.!])\s+(?=[A-Z])", "\\1\n", line)
    # A cited sentence's stop ends it whatever follows: a small model writes a passage's
    # lower-case title ("... in August 1992 [2]. squad-0214 The passage ...") as the next
    # sentence's first word.
    line = _CITED_STOP.sub("\\1\n", line)
    # A small model runs a list onto one line; each item is a sentence of its own.
    line = _INLINE_ITEM.sub("\\1\n", line)
    parts = [line[a:b] for a, b in split_sentences(line)]
    out: list[str] = []
    for part in parts:
        lead = _LEADING_MARKERS.match(part)
        if lead and out and not cited_numbers(out[-1]):
            out[-1] = f"{out[-1]} {lead.group().strip()}"
            part = part[lead.end() :].strip()
        if not part:
            continue
        if out and not _WORD.search(MARKER.sub("", part)):
            out[-1] = f"{out[-1]} {part}"  # a stray marker or dash on its own
        else:
            out.append(part)
    return out


def split_claims(answer: str) -> list[Claim]:
    """Every sentence of `answer` with its citations and whether it must cite."""
    section = "summary"
    out: list[Claim] = []
    for raw_line in answer.splitlines():
        line = raw_line.strip()
        if not line or _CHECKED_ON.match(line):
            continue
        if _HEADING.match(line):
            section = heading_kind(line.strip("#* :"))
            continue
        line = _LIST_ITEM.sub("", line)
        for sentence in line_sentences(line):
            bare = MARKER.sub(" ", sentence).strip()
            question = bare.endswith("?")
            needs = not (
                section in ("limits", "follow_ups")
                or question
                or _is_connective(sentence)
                or says_no_answer(bare)
            )
            out.append(
                Claim(
                    text=sentence,
                    citations=cited_numbers(sentence),
                    section=section,
                    needs_citation=needs,
                )
            )
    return out
