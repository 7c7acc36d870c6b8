"""Relations said otherwise: a claim that keeps its passage's names and words but says "sung"
where the passage says "written", "president" where it says "editor", or "unencrypted" where it
says "encrypted" (support.py flags it)."""

from __future__ import annotations

import re

from rag.validate.lexicon import opposed, synsets
from rag.validate.wording import NAME, names

_WORD = re.compile(r"[A-Za-z]+")
# Relations between the same names that exclude each other: a claim that says "sung by" where
# its passage says "written by" keeps every name and most words, and says something else. Each
# group lists concepts, each concept its forms.
_RELATIONS = (
    (
        "write wrote written writer writers writing writes",
        "sing sang sung singer singers sings singing",
        "direct directed director directors directs directing",
        "produce produced producer producers produces producing",
        "compose composed composer composers composes",
        "perform performed performer performers performs",
        "paint painted painter painters",
        "design designed designer designers",
    ),
    ("win won wins winner winners winning", "lose lost loses loser losers losing"),
    ("send sent sends sender", "receive received receives recipient"),
    ("president presidents chairman", "editor editors", "founder founders", "treasurer"),
    ("before earlier preceded precedes", "after later followed follows"),
    ("first", "last final"),
    ("born birth", "died death dies"),
    ("more", "less fewer"),
    ("higher", "lower"),
    ("larger largest bigger biggest", "smaller smallest"),
    (
        "increase increased increases rose rise rises risen grew grown",
        "decrease decreased decreases fell fall falls declined decline declines dropped",
    ),
    ("oldest", "youngest"),
    ("north northern northward northerly", "south southern southward southerly"),
    ("east eastern eastward easterly", "west western westward westerly"),
    ("father", "mother"),
    ("husband", "wife"),
    ("son", "daughter"),
    ("brother", "sister"),
)
_ROLE_FIRST = "write win send president born"
_CONCEPT_OF = {
    form: (g, c)
    for g, group in enumerate(_RELATIONS)
    for c, concept in enumerate(group)
    for form in concept.split()
}


# Groups of roles (who wrote, won, received, was president, was born), as against groups of
# order and amount, which a paraphrase words otherwise ("prior to" for "before"); each named by
# its first word.
_ROLES = frozenset(
    g for g, group in enumerate(_RELATIONS) if group[0].split()[0] in _ROLE_FIRST.split()
)


def role_word(word: str) -> bool:
    """Whether `word` names a role in one of the exclusive relations ("received", "editor",
    "won"), which no other word may take the place of."""
    concept = _CONCEPT_OF.get(word.lower())
    return concept is not None and concept[0] in _ROLES


# Prefixes that turn a word into its opposite; only "un" and "non" are safe read backwards (a
# word of the passage that starts with "in" or "dis" is rarely the opposite of its rest).
_NEGATING = ("non", "un", "in", "im", "il", "ir", "dis")
_NEGATING_BOTH_WAYS = ("non", "un")


def negated_words(claim: str, cited: str) -> list[tuple[str, str]]:
    """(claim's word, cited word) where one is the other with a negating prefix, and the
    claim lacks the cited form: "unencrypted" for "encrypted", "legal" for "illegal".

    >>> negated_words("It shows unencrypted content.", "It shows encrypted content.")
    [('unencrypted', 'encrypted')]
    >>> negated_words("The match was legal.", "The match was ruled unlawful and nonbinding.")
    []
    >>> negated_words("The deal was binding.", "The deal was nonbinding.")
    [('binding', 'nonbinding')]
    >>> negated_words("It was unknown then.", "It was unknown then; now it is known.")
    []
    >>> negated_words("It was discovered in 1850.", "It was covered in 1850.")
    []
    """
    said = {w.lower() for w in _WORD.findall(cited)}
    words = {w.lower() for w in _WORD.findall(claim)}
    out = []
    for word in sorted(words - said):
        for prefix in _NEGATING:
            rest = word[len(prefix) :]
            if word.startswith(prefix) and len(rest) >= 4 and rest in said:
                # "discovered" is no opposite of "covered", nor "information" of "formation":
                # where WordNet knows both words, it must call them opposites.
                if not (synsets(word) and synsets(rest)) or opposed(word, rest):
                    out.append((word, rest))
                break
        else:
            for prefix in _NEGATING_BOTH_WAYS:
                if len(word) >= 4 and prefix + word in said:
                    out.append((word, prefix + word))
                    break
    return out


def naming(claim: str, cited_sentences: list[str]) -> list[str]:
    """The cited sentences that hold one of the claim's names: where a relation between those
    names is said, even when another sentence shares more of the claim's words.

    >>> naming("Ann Lee was its president.", ["It was founded in Oslo.", "Its editor is Ann Lee."])
    ['Its editor is Ann Lee.']
    """
    wanted = {n.lower() for n in names(claim)}
    return [s for s in cited_sentences if wanted & {w.lower() for w in NAME.findall(s)}]


def changed_relations(claim: str, cited_sentence: str, roles: bool = True) -> list[tuple[str, str]]:
    """(claim's word, cited sentence's word) where the claim names one relation of a group and
    the sentence, lacking it, names another: "sung by" for "written by", "won" for "lost".
    Without `roles`, only order, direction and amount ("before", "west", "more").

    >>> changed_relations("It was sung by Ann Lee.", "It was written by Ann Lee.")
    [('sung', 'written')]
    >>> changed_relations("Ann Lee wrote it.", "It was written and sung by Ann Lee.")
    []
    """
    # The cited sentence's concepts, each with the first word that said it.
    word_of: dict[tuple[int, int], str] = {}
    for w in _WORD.findall(cited_sentence.lower()):
        if w in _CONCEPT_OF:
            word_of.setdefault(_CONCEPT_OF[w], w)
    out = []
    for w in _WORD.findall(claim.lower()):
        concept = _CONCEPT_OF.get(w)
        if concept is None or concept in word_of or (not roles and concept[0] in _ROLES):
            continue
        other = next((c for c in word_of if c[0] == concept[0]), None)
        if other is not None:
            out.append((w, word_of[other]))
    return out
