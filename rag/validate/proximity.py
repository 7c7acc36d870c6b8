"""Where a number stands: a claim's number must keep, in some cited sentence, one of the words
the claim puts around it (a year moved from one event to another keeps every word and number of
its passage)."""

from __future__ import annotations

import re

from rag.text import terms
from rag.validate.wording import NUMBER_WORDS, numbers, stem

_CONTEXT_TOKEN = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?(?![A-Za-z])|[A-Za-z0-9]+")
_NEAR = 4  # content words either side of a number that are its words
# Words that tie a number to nothing in particular ("he", "had"): not its words.
_FUNCTION_WORDS = frozenset(
    [
        "he",
        "she",
        "they",
        "him",
        "her",
        "his",
        "hers",
        "them",
        "we",
        "us",
        "our",
        "i",
        "me",
        "my",
        "you",
        "your",
        "been",
        "being",
        "had",
        "would",
        "could",
        "can",
        "may",
        "might",
        "should",
        "shall",
        "not",
        "no",
        "but",
        "if",
        "so",
        "than",
        "then",
        "also",
        "into",
        "about",
        "after",
        "before",
        "over",
        "under",
        "since",
        "until",
        "between",
        "during",
        "per",
        "each",
    ]
)


def _number_tokens(text: str) -> list[str]:
    """Words as `terms` sees them ("e6hL" is one), numbers as `numbers` writes them."""
    out = []
    for t in _CONTEXT_TOKEN.findall(text):
        low = t.lower().replace(",", "")
        out.append(NUMBER_WORDS.get(low, low))
    return out


def _content(token: str) -> bool:
    """Whether a token is a content word: not a number, a stop word or a function word."""
    return bool(terms(token)) and not numbers(token) and token not in _FUNCTION_WORDS


def _around(tokens: list[str], number: str) -> list[set[str]]:
    """The stemmed content words, 4 either side, of each place `number` is in `tokens`."""
    # Only content words count towards the 4: "from £15-100,000" has both ends of its range
    # next to "from"; "wrote the song in 1971" has "wrote" and "song" next to 1971.
    words = [(i, t) for i, t in enumerate(tokens) if _content(t)]
    out = []
    for i, t in enumerate(tokens):
        if t == number:
            before = [w for j, w in words if j < i][-_NEAR:]
            after = [w for j, w in words if j > i][:_NEAR]
            out.append({stem(w) for w in before + after})
    return out


# "A and B are two ...", "A, B and C were three ...": the count of the list before it.
_LISTED = re.compile(r"^(.+?)\s+(?:are|were)\s+(?:the\s+)?(two|three|four|five|six)\b", re.I)
_ITEM_BREAK = re.compile(r",\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+")


def own_count(claim: str) -> set[str]:
    """A number that counts the things the claim itself lists before it, which says nothing
    the passage must hold ("RSA and Diffie-Hellman are two types of ...").

    >>> own_count("RSA and the Diffie-Hellman exchange are two types of algorithm.")
    {'2'}
    >>> own_count("Oslo, Bergen and Trondheim were the three largest."), own_count("They are two.")
    ({'3'}, set())
    """
    match = _LISTED.match(claim.strip())
    if not match:
        return set()
    items = [i for i in _ITEM_BREAK.split(match.group(1)) if i.strip()]
    number = NUMBER_WORDS[match.group(2).lower()]
    return {number} if len(items) == int(number) else set()


def distant_numbers(claim: str, cited_sentences: list[str]) -> list[str]:
    """The claim's numbers that the cited text has, but never among the words the claim puts
    around them: one of the 4 content words either side of the number in the claim, or of the
    rest of its clause, must be among the 4 either side of it in some cited sentence. Catches a
    year moved from one event to another, even within one sentence ("since 2011" where the text
    has "since 2004 ... in 2011"); a sentence or clause between the number and the claim's other
    words is fine.

    >>> cited = ["In 1990 he joined Bexco.", "In 1995 he founded Ytrac."]
    >>> distant_numbers("He founded Ytrac in 1990.", cited)
    ['1990']
    >>> distant_numbers("Released in 1986, the film was a hit.", ["It is a 1986 film.", "A hit."])
    []
    >>> distant_numbers("The fee is £15-100,000.", ["Access costs a fee, from £15-100,000."])
    []
    """
    places = [_number_tokens(s) for s in cited_sentences]
    tokens = _number_tokens(claim)
    clauses = [_number_tokens(c) for c in re.split(r"[,;:]", claim)]
    out = []
    for number in sorted(numbers(claim) - own_count(claim)):
        theirs = [a for p in places for a in _around(p, number)]
        if not theirs:
            continue  # not in the cited text at all: the missing-number check's business
        # The number's words in the claim: the 4 either side of each place it stands, and the
        # rest of its clause ("In 2012 X ranked Warsaw 32nd" may be written "X ranked Warsaw
        # 32nd in 2012"). Every place counts: "since 2011 ... in 2011" moves one of them.
        for ours in _around(tokens, number):
            ours |= {stem(w) for c in clauses if number in c for w in c if _content(w)}
            if ours and not any(ours & a for a in theirs):
                out.append(number)
                break
    return out
