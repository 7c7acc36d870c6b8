"""Names a claim joins across passages: a clause that ties two names together, each held by
one of its cited passages, where no passage holds them together nor a chain of names links
them. A sentence re-attributed to two passages may keep every word of both and still say what
neither does ("Robert De Niro starred in The Jewel of the Nile [1][2]" of a passage on that
film and one on Last Vegas, both naming Michael Douglas)."""

from __future__ import annotations

import re

from rag.text import MARKER
from rag.validate.wording import NOT_NAMES, name_words, stem

# Where a clause ends: punctuation, a dash, a relative or contrasting word ("..., which was
# directed by Lewis Teague" says its own thing about the name before it).
_CLAUSE_BREAK = re.compile(
    r"[,;:()]|\s[-\u2013\u2014]\s|\b(?:which|who|whom|whose|where|when|while|whereas|but)\b"
)
# A name: capitalised words, possibly joined by lowercase particles ("The Jewel of the Nile").
_NAME = re.compile(
    r"[A-Z][\w'\u2019.-]*(?:\s+(?:(?:of|the|de|von|van|der|du|la|le|del|da)\s+)*[A-Z][\w'\u2019.-]*)*"
)
_LETTERS = re.compile(r"[A-Za-z]+")
# A clause that compares or lists may join names from different passages ("Ed Wood and Scott
# Derrickson were both American", "X was released before Y").
_COMPARING = re.compile(
    r"\b(?:than|both|same|neither|nor|either|unlike|like|also|too|each|all|different|similar"
    r"|shared?|common|earlier|later|before|after|older|younger|first|between|versus|vs)\b",
    re.IGNORECASE,
)
_COORDINATED = re.compile(r"^\s*(?:and|or|&|with)\s*$", re.IGNORECASE)


def _names(clause: str) -> list[tuple[str, frozenset[str], int, int]]:
    """The clause's names: text, stemmed parts, start and end."""
    out = []
    for match in _NAME.finditer(clause):
        parts = [p for p in _LETTERS.findall(match.group()) if p[0].isupper()]
        key = frozenset(stem(p.lower()) for p in parts if p not in NOT_NAMES)
        if key:
            out.append((match.group(), key, match.start(), match.end()))
    return out


def _holds(key: frozenset[str], held: frozenset[str]) -> bool:
    """Whether a passage's names hold a name; one part of three or more may be left out
    ("Sandra Miju Oh" of "Sandra Oh")."""
    return len(key - held) <= (1 if len(key) >= 3 else 0)


def _root(group: list[int], i: int) -> int:
    """The name `i` is linked to, as the union-find `group` has it."""
    while group[i] != i:
        i = group[i]
    return i


def crossed_names(claim: str, cited: list[str]) -> list[tuple[str, str]]:
    """Pairs of names a clause of the claim ties together that no one cited passage holds
    together, nor a chain of names each held with the next; empty for one passage, a clause
    that compares or lists, or a name no passage holds (the name check's business).

    >>> cited = ["The Jewel of the Nile. A 1985 film produced by Michael Douglas.",
    ...          "Last Vegas. A 2013 film starring Michael Douglas and Robert De Niro."]
    >>> crossed_names("Robert De Niro starred in The Jewel of the Nile [1][2].", cited)
    [('Robert De Niro', 'The Jewel of the Nile')]
    >>> crossed_names("The Jewel of the Nile was produced by Michael Douglas, who starred in "
    ...     "Last Vegas with Robert De Niro [1][2].", cited)
    []
    >>> crossed_names("Robert De Niro and The Jewel of the Nile are both famous [1][2].", cited)
    []
    """
    if len(cited) < 2:
        return []
    held = [name_words(text, anywhere=True) for text in cited]
    found = []
    for clause in _CLAUSE_BREAK.split(MARKER.sub(" ", claim)):
        if not clause or _COMPARING.search(clause):
            continue
        names = _names(clause)
        holders = [{i for i, h in enumerate(held) if _holds(key, h)} for _, key, _, _ in names]
        if len(names) < 2 or not all(holders):
            continue
        group = list(range(len(names)))  # union-find over the clause's names
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                between = clause[names[i][3] : names[j][2]]
                if holders[i] & holders[j] or (j == i + 1 and _COORDINATED.match(between)):
                    group[_root(group, i)] = _root(group, j)
        firsts: dict[int, str] = {}
        for i, (text, _, _, _) in enumerate(names):
            firsts.setdefault(_root(group, i), text)
        if len(firsts) > 1:
            apart = list(firsts.values())
            found += [(apart[0], other) for other in apart[1:]]
    return found
