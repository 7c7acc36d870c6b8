"""A name put together from two people's: the claim's "Robert Harper" where the cited text
names "William Rainey Harper" and, elsewhere, "Robert Maynard Hutchins". Each word is in the
cited text, so the name check (wording.missing_names) passes it; only the run of words that
makes one name tells the first name was changed."""

from __future__ import annotations

from functools import lru_cache

from rag.validate.lexicon import only_a_name
from rag.validate.wording import NAME, NOT_NAMES, stem


@lru_cache(maxsize=4096)
def name_runs(text: str) -> tuple[tuple[str, ...], ...]:
    """Runs of two or more capitalized words with only a space between them. Cached: every
    claim of an answer is read against the same cited text.

    >>> name_runs("The chair went to William Rainey Harper in 1891; Harper left.")
    (('William', 'Rainey', 'Harper'),)
    """
    runs: list[list[str]] = []
    end = -1
    for match in NAME.finditer(text):
        word = match.group()
        if word in NOT_NAMES:
            end = -1
            continue
        if end >= 0 and text[end : match.start()] == " ":
            runs[-1].append(word)
        else:
            runs.append([word])
        end = match.end()
    return tuple(tuple(run) for run in runs if len(run) > 1)


def _key(word: str) -> str:
    return stem(word.lower())


def changed_first_names(claim: str, cited: str) -> list[str]:
    """The claim's names whose last word ends only names of the cited text that open with other
    first words, while the claim's first word (one WordNet knows only as a name, or not at all)
    opens another of its names.

    >>> cited = "William Rainey Harper was its first president. Robert Maynard Hutchins followed."
    >>> changed_first_names("Robert Harper became its first president.", cited)
    ['Robert Harper']
    >>> changed_first_names("William Harper became its first president.", cited)
    []
    >>> air = "The U.S. Air Force flew. The United States paid."
    >>> changed_first_names("The United States Air Force flew.", air)
    []
    """
    runs = [tuple(_key(w) for w in run) for run in name_runs(cited)]
    out = []
    for run in name_runs(claim):
        first, last = _key(run[0]), _key(run[-1])
        ending = [r for r in runs if r[-1] == last]
        # A first name given to someone else: the claim's first word opens a name of the cited
        # text, and every name ending in its last word opens otherwise.
        if (
            ending
            and any(r[0] == first for r in runs)
            and not any(first in r for r in ending)
            and only_a_name(run[0])
        ):
            out.append(" ".join(run))
    return out
