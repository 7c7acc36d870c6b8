"""A name put together from two people's: the claim's "Robert Harper" where the cited text
names "William Rainey Harper" and, elsewhere, "Robert Maynard Hutchins". Each word is in the
cited text, so the name check (wording.missing_names) passes it; only the run of words that
makes one name tells the first name was changed."""

from __future__ import annotations

import re
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


_OWNED = re.compile(r"\b((?:[A-Z][\w-]*\s+)*[A-Z][\w-]+)['\u2019]s((?:\s+[a-z][\w-]*){1,3})")


def _owner(run: str) -> set[str]:
    """The words of an owner's name, without a sentence's opening "The" or "In"."""
    return set(run.split()) - NOT_NAMES


def changed_owners(claim: str, cited: str) -> list[str]:
    """The claim's "Name's thing" where the cited text gives that thing, word for word, as
    another name's and never as this one's: "Euler's little theorem" of "Fermat's little
    theorem (later proved by Leibniz and Euler)".

    >>> cited = "Fermat stated Fermat's little theorem, later proved by Leibniz and Euler."
    >>> changed_owners("Who proved Euler's little theorem?", cited)
    ["Euler's little theorem"]
    >>> changed_owners("Who proved Fermat's little theorem?", cited)
    []
    >>> changed_owners("What was Britain's first king?", "It was Alfred's first victory.")
    []
    >>> changed_owners("What took Sky UK Limited's top spot?", "It took Sky's top spot.")
    []
    """
    owners: dict[str, set[str]] = {}
    for match in _OWNED.finditer(cited):
        words = match.group(2).lower().split()
        for end in range(2, len(words) + 1):
            owners.setdefault(" ".join(words[:end]), set()).update(_owner(match.group(1)))
    out = []
    for match in _OWNED.finditer(claim):
        run, words = match.group(1).split(), match.group(2).split()
        owner = run[-1]
        if owner.isupper():
            continue  # an acronym ("the SP's standing orders") stands for a name written out
        # The longest run of the claim's words (two at least: one word such as "first" is
        # anyone's) the cited text gives an owner; any word of the owner's name will do
        # ("Sky UK Limited's" is Sky's).
        for end in range(len(words), 1, -1):
            known = owners.get(" ".join(words[:end]).lower())
            if known:
                if not known & _owner(match.group(1)):
                    out.append(f"{owner}'s {' '.join(words[:end])}")
                break
    return out
