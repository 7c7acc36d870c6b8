"""What a claim says of its own telling, which no passage says of itself: a label that lists
it ("Fact 1:"), an opening that credits the sources ("The sources say that ..."), a closing
that points at them ("..., as mentioned in passage [1]"), and "is the name of" ("Doc Films is
the name of the nation's oldest film society" says "Doc Films is ...")."""

from __future__ import annotations

import re

_TOLD = r"(?:the\s+)?(?:sources?|passages?|documents?|articles?|texts?|reports?)"
_SAID = r"(?:mentioned|stated|said|noted|shown|described|reported|given)"
_OPENING = re.compile(
    rf"^(?:{_TOLD}\s+"
    r"(?:say|says|said|state|states|stated|show|shows|showed|report|reports|reported|note|"
    r"notes|noted|indicate|indicates|indicated|mention|mentions|mentioned)(?:\s+that)?|"
    rf"according\s+to\s+{_TOLD},?|as\s+{_SAID}\s+in\s+{_TOLD},?)\s+",
    re.I,
)
# At the end, after markers are taken off: "..., as mentioned in passage." / "according to
# passages and."
_CLOSING = re.compile(
    rf",?\s+(?:as\s+{_SAID}\s+(?:in|by)|according\s+to)\s+{_TOLD}(?:\s+and)?\s*(?=[.!?]?$)",
    re.I,
)
# The words a label puts before a sentence as if listing them: "Fact 1:", "Point 2 -".
LISTING = r"(?:fact|point|finding|claim)"
_LABEL = re.compile(rf"^(?:{LISTING}|answer|note)(?:\s+\d{{1,2}})?\s*[:\u2013-]\s+", re.I)
_NAME_OF = re.compile(r"\b(is|was|are|were) the (?:name|title) of\b", re.I)


def unframed(claim: str) -> str:
    """The claim without what it says of its own telling.

    >>> unframed("The sources say that the bridge opened in 1890.")
    'the bridge opened in 1890.'
    >>> unframed("According to the passages, it opened in 1890.")
    'it opened in 1890.'
    >>> unframed("The war began in March 2011, as mentioned in passage.")
    'The war began in March 2011.'
    >>> unframed("Doc Films is the name of the oldest film society.")
    'Doc Films is the oldest film society.'
    >>> unframed("Fact 2: A half decade later the tract had 267 homes.")
    'A half decade later the tract had 267 homes.'
    """
    opened = _OPENING.sub("", _LABEL.sub("", claim, count=1), count=1)
    return _NAME_OF.sub(r"\1", _CLOSING.sub("", opened))
