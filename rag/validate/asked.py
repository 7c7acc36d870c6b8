"""What a question asks for, and whether an answer gives it: "How many Huguenots were in
France?" wants a number, "In what year was Fort Coligny built?" a year, "When ...?" a time. An
answer of true, cited sentences that hold none ("Most are concentrated in Alsace") answers
another question; SQuAD 2.0's unanswerable questions draw such answers from passages that
hold the words but not the thing asked. Read from the words that ask ("how many", "what
year", an opening "when" with no other question word after it): a kind a question does not
name is never required. An answer that opens with a word pointing outside it ("It was
founded by ...") does not say what it is about either. The policy abstains on what it finds
(rag/answer/settle.py).
"""

from __future__ import annotations

import re

from rag.text import sentences
from rag.validate.wording import NUMBER_WORDS

MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTH_WORDS = " ".join(MONTH_NAMES) + " jan feb mar apr jun jul aug sep sept oct nov dec"
_AMOUNT_WORDS = (
    "hundred hundreds thousand thousands million millions billion billions trillion dozen "
    "dozens half quarter twice once none no few several many numerous single double"
)
_TIME_WORDS = (
    "monday tuesday wednesday thursday friday saturday sunday century centuries decade decades "
    "year years era age period reign war ago today now recently formerly currently since until "
    "during after before when while time times spring summer autumn fall winter dynasty season "
    "morning evening night day days week weeks"
)
_MONTHS = frozenset(_MONTH_WORDS.split())
_AMOUNTS = frozenset(_AMOUNT_WORDS.split())
_TIMES = _MONTHS | frozenset(_TIME_WORDS.split())
# A digit, but not one inside a formula or code ("CO2", "H2O"), which gives no number.
_NUMBER = re.compile(r"(?<![A-Za-z])\d")
_WORD = re.compile(r"[a-z]+")
_YEAR = re.compile(r"\b\d{3,4}s?\b|\b\d{2}(?:st|nd|rd|th)\b")
# What each kind of question must be given, by the words that open it.
_ASKS = (
    ("a year", re.compile(r"\b(?:what|which) year\b")),
    ("a month", re.compile(r"\b(?:what|which) month\b")),
    ("a century", re.compile(r"\b(?:what|which) century\b")),
    ("a number", re.compile(r"\bhow (?:many|much)\b")),
    # Named measures: "What is the population of the state where ...?" is answered by a number,
    # not by what the state's airport is (a multi-hop question's first hop).
    (
        "a number",
        re.compile(
            r"\bwhat (?:is|was|are|were) the (?:total |estimated |current )?"
            r"(?:population|elevation|altitude|height)\b|\bwhat (?:percentage|percent|proportion)\b"
        ),
    ),
    ("an amount", re.compile(r"\bhow (?:long|old|far|large|big|tall|high|wide|deep|often)\b")),
    # "When rich countries trade ..., whose wages rise?" asks who; only a "when" alone asks when.
    ("a time", re.compile(r"^\s*when\b(?!.*\b(?:who|whom|whose|what|which|where|why|how)\b)")),
)


# Words that, opening an answer, point to what it does not name ("It was founded by ..."): a
# personal pronoun; a demonstrative standing for a thing, before a verb ("This caused ...", not
# "These crops ...", whose noun says what they are). A possessive names its noun ("His calendar
# ... was disseminated in 1281" answers when it became the official calendar).
_PRONOUNS = frozenset(("it", "they", "he", "she"))
_DEMONSTRATIVES = frozenset(("this", "these", "that", "those"))
_BEFORE_VERB = re.compile(
    r"[A-Za-z]+\s+(?:also\s+|then\s+)?(?:is|are|was|were|has|have|had|can|could|will|would|may|"
    r"might|must|should|does|did|means|meant|[a-z]+ed)\b"
)
_OTHER = re.compile(r"the (?:other|latter|former)\b", re.IGNORECASE)  # "The other three are ..."
# "It is known that ...", "It was Newton who ...": an "it" that points to nothing before it.
_EMPTY_IT = re.compile(
    r"^it\s+(?:is|was|has been|had been|seems|seemed|appears|appeared)\b.*\b(?:that|who|whether)\b"
)


def pointing_opening(answer: str) -> str:
    """The word opening `answer` that points to something the answer does not name ("It",
    "This", "They"), or "" if it opens otherwise. Read on its own, such an answer does not say
    what it is about: "It was founded by Larry Roberts" answered "Who created ARPANET?" of a
    passage whose "it" is Telenet.

    >>> pointing_opening("It was founded by Larry Roberts."), pointing_opening("This caused ...")
    ('It', 'This')
    >>> pointing_opening("Telenet was founded."), pointing_opening("These crops were grown.")
    ('', '')
    >>> pointing_opening("It was only the orbit of Mercury that the law did not explain.")
    ''
    >>> pointing_opening("They Flew Alone is a 1942 British biopic about Amy Johnson.")
    ''
    """
    opening = answer.lstrip(" *_\"'“")
    other = _OTHER.match(opening)
    if other:
        return other.group()
    first = re.match(r"[A-Za-z]+", opening)
    word = first.group().lower() if first else ""
    if word not in _PRONOUNS and not (word in _DEMONSTRATIVES and _BEFORE_VERB.match(opening)):
        return ""
    if re.match(r"[A-Za-z]+\s+[A-Z]", opening):
        return ""  # a title or name: "They Flew Alone (1942) is ...", "He Jiankui"
    said = sentences(opening)
    return "" if _EMPTY_IT.match((said[0] if said else opening).lower()) else opening[: len(word)]


def asked_for(question: str) -> str:
    """The kind of thing `question` asks for, or "" if its words do not say.

    >>> asked_for("How many Huguenots were in France?"), asked_for("In what year was it built?")
    ('a number', 'a year')
    >>> asked_for("When did the oil crisis begin?"), asked_for("When they trade, whose wages rise?")
    ('a time', '')
    """
    lowered = question.lower()
    return next((kind for kind, pattern in _ASKS if pattern.search(lowered)), "")


def gives(kind: str, answer: str) -> bool:
    """Whether `answer` holds a thing of `kind` (asked_for's kinds; "" is always given).

    >>> gives("a number", "Most are concentrated in Alsace."), gives("a number", "About 63 days.")
    (False, True)
    >>> gives("a number", "None of the treaties did."), gives("a year", "It was built in 1555.")
    (True, True)
    >>> gives("a time", "It began when they declared an embargo."), gives("a month", "In 1349.")
    (True, False)
    >>> gives("a time", "CO2 caused over half the greenhouse effect."), gives("a time", "In 1990.")
    (False, True)
    """
    words = set(_WORD.findall(answer.lower()))
    numbers = bool(_NUMBER.search(answer)) or bool(words & NUMBER_WORDS.keys())
    if kind == "a year":
        return bool(_YEAR.search(answer))
    if kind == "a month":
        return bool(words & _MONTHS)
    if kind == "a century":
        return "century" in words or "centuries" in words or bool(_YEAR.search(answer))
    if kind in ("a number", "an amount"):
        return numbers or bool(words & _AMOUNTS)
    if kind == "a time":
        return numbers or bool(words & _TIMES)
    return True
