"""Text every stage reads the same way: sentences, content words, citation markers, and the
characters a terminal would obey.

    >>> sentences("Dr. Smith met the U.S. Army. It rained.")
    ['Dr. Smith met the U.S. Army.', 'It rained.']
    >>> sentences('Elwyn Brooks "E. B." White played for F.C. Porto. It rained.')
    ['Elwyn Brooks "E. B." White played for F.C. Porto.', 'It rained.']
    >>> cited_numbers("The council voted [2]. The chief spoke [1, 3-4].")
    [2, 1, 3, 4]
    >>> sorted(terms("What did the council vote on?"))
    ['council', 'vote']
    >>> sorted(terms("She said his officers left."))
    ['left', 'officers', 'said']
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Words whose trailing period does not end a sentence.
_ABBREVIATION_WORDS = (
    "mr mrs ms dr prof sr jr st mt ft no nos vs etc al fig figs eq approx dept est gen gov "
    "sen rep rev col lt sgt capt cmdr adm corp inc ltd co bros jan feb mar apr jun jul aug "
    "sep sept oct nov dec mon tue wed thu fri sat sun e.g i.e u.s u.k u.n a.m p.m ph.d d.c lit"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
_INITIALS = re.compile(r"(?:[a-z]\.)*[a-z]")
# Closing quotes and brackets may follow the stop; the next sentence starts capitalized or with a
# digit, possibly after an opening quote (typographic quotes are spelled as escapes).
_BOUNDARY = re.compile(
    "[.!?\u2026]+[\"'\u201d\u2019)\\]]*(?=\\s+[\"'\u201c\u2018(\\[]?[A-Z0-9\u00c0-\u00dd])"
)
_TERM = re.compile(r"[a-z0-9]+")
_STOP_WORDS = (
    "a an and are as at be by did do does for from has have he her his how in is it its of on "
    "or she that the their there these they this to was were what when where which who whom "
    "why will with"
)
_STOP = frozenset(_STOP_WORDS.split())
# One citation marker: numbers separated by commas, ranges with a hyphen or en dash.
MARKER = re.compile(r"\[\s*(\d{1,3}(?:\s*[,\u2013-]\s*\d{1,3})*)\s*\]")
_MAX_RANGE = 20
# C0/C1 controls but tab and newlines (a terminal obeys ESC sequences; NUL ends C strings) and
# the invisible characters that reorder or hide text (bidi overrides, zero-width space, BOM).
_CONTROLS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2066-\u2069\ufeff]"
)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) of `text`; line breaks always end a sentence."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        start = line.start()
        for match in _BOUNDARY.finditer(line.group()):
            end = line.start() + match.end()
            before = text[start : line.start() + match.start()].rsplit(None, 1)
            last_word = before[-1].lower().rstrip(".").lstrip("\"'(\u201c\u2018[") if before else ""
            # "Dr. Smith", "U.S. Army", "F.C. Porto", initials like "J. Smith" or "E. B." White:
            # not sentence ends.
            if last_word in _ABBREVIATIONS or _INITIALS.fullmatch(last_word):
                continue
            spans.append(_trim(text, start, end))
            start = end
        spans.append(_trim(text, start, line.end()))
    return [s for s in spans if s[1] > s[0]]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def sentences(text: str) -> list[str]:
    """The sentences of a text."""
    return [text[s:e] for s, e in split_sentences(text)]


_YES_NO = re.compile(
    r"^\W*(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|may|might|"
    r"must|shall)\b",
    re.I,
)


def asks_yes_no(question: str) -> bool:
    """Whether a question asks yes or no ("Do officers cooperate with ICE?"): a passage saying
    the opposite answers it ("No"), where it would deny another question's premise.

    >>> asks_yes_no("Do officers cooperate with ICE?"), asks_yes_no("When did they cooperate?")
    (True, False)
    """
    return bool(_YES_NO.match(question))


def terms(text: str) -> set[str]:
    """Lowercased content words and numbers."""
    return {t for t in _TERM.findall(text.lower()) if t not in _STOP and len(t) > 1}


def parse_marker(inner: str) -> list[int]:
    """The numbers of one marker's inside, ranges expanded, order kept, repeats dropped.

    >>> parse_marker("3, 1-2")
    [3, 1, 2]
    """
    numbers: list[int] = []
    for part in inner.split(","):
        bounds = [int(b) for b in re.split(r"[\u2013-]", part) if b.strip()]
        if len(bounds) == 2 and 0 <= bounds[1] - bounds[0] <= _MAX_RANGE:
            numbers.extend(range(bounds[0], bounds[1] + 1))
        else:  # a reversed or absurd range: keep only its ends
            numbers.extend(bounds)
    return list(dict.fromkeys(numbers))


def cited_numbers(text: str) -> list[int]:
    """Every number cited in `text`, in order of first use."""
    out: list[int] = []
    for match in MARKER.finditer(text):
        out.extend(parse_marker(match.group(1)))
    return list(dict.fromkeys(out))


def markers(numbers: Iterable[int]) -> str:
    """Citation markers for `numbers`, as an answer writes them.

    >>> markers([2, 5])
    '[2][5]'
    """
    return "".join(f"[{n}]" for n in numbers)


def strip_markers(text: str) -> str:
    """The text without its [n] markers, whitespace collapsed, none left before punctuation.

    >>> strip_markers("Oslo is the capital [1], and large [2] .")
    'Oslo is the capital, and large.'
    """
    return re.sub(r" (?=[.,;:!?](?:\s|$))", "", " ".join(MARKER.sub(" ", text).split()))


def cited_text(title: str, text: str, date: str | None = None) -> str:
    """What a citation vouches for: the passage under its source's title and date, which hold
    names and dates the text leaves out ("the film" of a source titled with the film's name).

    >>> cited_text("Maximum Overdrive", "The film was shot in Leland.", "1986")
    'Maximum Overdrive (1986)\\nThe film was shot in Leland.'
    >>> cited_text("", "The film was shot in Leland.")
    'The film was shot in Leland.'
    """
    head = " ".join(p for p in (title.strip(), f"({date})" if date else "") if p)
    return f"{head}\n{text}" if head else text


def cited_title(cited: str) -> str:
    """The source title a `cited_text` opens with (its date left off); "" where it has none.

    >>> cited_title(cited_text("Maximum Overdrive", "The film was shot in Leland.", "1986"))
    'Maximum Overdrive'
    >>> cited_title("The film was shot in Leland.")
    ''
    """
    head, newline, _ = cited.partition("\n")
    return re.sub(r"\s*\([^)]*\)$", "", head) if newline else ""


def titled(title: str, text: str, with_title: bool) -> str:
    """What the encoder and BM25 see for a passage: its text, after its title if asked and
    there is one (an empty title must not change the text: "\\n" alone moved SQuAD's vectors).

    >>> titled("Oslo", "It is a city.", True)
    'Oslo\\nIt is a city.'
    >>> titled("", "It is a city.", True)
    'It is a city.'
    """
    return f"{title}\n{text}" if with_title and title.strip() else text


def strip_controls(text: str) -> str:
    """`text` without control and bidi-override characters (tab, CR and LF are kept)."""
    return _CONTROLS.sub("", text)
