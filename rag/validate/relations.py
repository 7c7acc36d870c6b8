"""Relations said otherwise: a claim that keeps its passage's names and words but says "sung"
where the passage says "written", "president" where it says "editor", or "unencrypted" where it
says "encrypted" (support.py flags it)."""

from __future__ import annotations

import re

from rag.text import terms
from rag.validate.lexicon import akin, opposed, parts_of_speech, synsets
from rag.validate.wording import NAME, NUMBER_WORDS, names, stem, stems

_WORD = re.compile(r"[A-Za-z]+")
_CLAUSE_WORD = re.compile(r"[A-Za-z0-9]+|[,;:]")
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
        "increase increased increases increasing rose rise rises risen rising grew grown growing",
        "decrease decreased decreases decreasing fell fall falls falling declined decline "
        "declines declining dropped dropping",
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


# Prefixes that turn a word into its opposite ("ametrical", "anaerobic", "illegal").
_NEGATING = ("non", "un", "in", "im", "il", "ir", "dis", "an", "a")


def negated_words(claim: str, cited: str) -> list[tuple[str, str]]:
    """(claim's word, cited word) where one is the other with a negating prefix, and the
    claim lacks the cited form: "unencrypted" for "encrypted", "metrical" for "ametrical".

    >>> negated_words("It shows unencrypted content.", "It shows encrypted content.")
    [('unencrypted', 'encrypted')]
    >>> negated_words("The match was legal.", "The match was ruled unlawful and nonbinding.")
    []
    >>> negated_words("The deal was binding.", "The deal was nonbinding.")
    [('binding', 'nonbinding')]
    >>> negated_words("He wrote metrical music.", "He wrote ametrical music.")
    [('metrical', 'ametrical')]
    >>> negated_words("It was unknown then.", "It was unknown then; now it is known.")
    []
    >>> negated_words("It was discovered in 1850.", "It was covered in 1850.")
    []
    >>> negated_words("It went head first.", "It went ahead.")
    []
    >>> negated_words("What is the non-Islamic State?", "The Islamic State is a group.")
    [('non-islamic', 'islamic')]
    >>> negated_words("The Islamic State is a group.", "It fought non-Islamic states.")
    []
    """
    said, words = _words(cited), _words(claim)
    out = []
    for word in sorted(words.keys() - said.keys()):
        pairs = [(word[len(p) :], word) for p in _NEGATING if word.startswith(p)]
        pairs += [(word, p + word) for p in _NEGATING]
        for plain, prefixed in pairs:
            other = prefixed if plain == word else plain
            if len(plain) >= 4 and other in said and _opposite(plain, prefixed):
                out.append((words[word], said[other]))
                break
    return out


_PREFIX_HYPHEN = re.compile(r"\b(non|un)-([A-Za-z]+)", re.I)


def _words(text: str) -> dict[str, str]:
    """The lower-case words of `text`, each as written, and each "non-"/"un-" word joined as
    one ("nonislamic", written "non-islamic", as well as "non" and "islamic"): a text that says
    "non-Islamic" and "Islamic" elsewhere holds both; only a text with no "non-Islamic" lacks
    it."""
    out = {w.lower(): w.lower() for w in _WORD.findall(text)}
    for match in _PREFIX_HYPHEN.finditer(text):
        out["".join(match.groups()).lower()] = match.group().lower()
    return out


def _opposite(plain: str, prefixed: str) -> bool:
    # "discovered" is no opposite of "covered", nor "information" of "formation", nor "ahead"
    # of "head": where WordNet knows both words, it must call them opposites.
    return not (synsets(plain) and synsets(prefixed)) or opposed(plain, prefixed)


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


# "What precedes ...", "What was absorbed into ...", "Who will be named ...": the question word
# is the verb's subject. Groups: the verb as asked, the verb, the rest.
_AUX = "is|are|was|were|has|have|had|will|would|can|could|may|might|must|should"
_ASKS_WHO = re.compile(
    rf"^\W*(?:what|who|which)\s+((?:(?:{_AUX})\s+(?:be\s+|been\s+|have\s+been\s+)?)?([a-z]+))\b(.*)",
    re.I,
)


# Words that join a verb to its object, not the object itself ("absorbed into the language").
_LINK_WORDS = (
    "into onto upon about over under through between during against among across toward towards "
    "within without than also not"
)
_LINKS = frozenset(_LINK_WORDS.split())
_AUXILIARY = re.compile(r"\b(?:do|does|did|is|are|was|were|has|have|had|can|could|will|would)\b")


def turned_round(question: str, sentences: list[str]) -> list[tuple[str, str]]:
    """(verb as asked, the question's words after it) where the question asks what does
    something to X ("What precedes the period of Anglo-Saxon architecture?") and the closest
    sentence, the first of `sentences`, has X do it ("Anglo-Saxon architecture immediately
    precedes the Norman architecture"): the words the question puts after the verb come before
    it there (in its clause) and none of them after, and no sentence found has them after it.
    The passages answer "what does X precede", which was not asked.

    >>> s = "Anglo-Saxon architecture immediately precedes the Norman architecture."
    >>> turned_round("What precedes the period of Anglo-Saxon architecture?", [s])
    [('precedes', 'the period of Anglo-Saxon architecture')]
    >>> turned_round("What precedes Norman architecture?", [s])
    []
    >>> turned_round("What did Anglo-Saxon architecture precede?", [s])
    []
    """
    asked = _ASKS_WHO.match(question.strip())
    if not asked or not sentences:
        return []
    said, verb, rest = asked.group(1), asked.group(2), asked.group(3).strip(" ?")
    wanted = stems(rest) - _LINKS
    # "What type of engine did it use?": an auxiliary after the verb asks for its object.
    if "v" not in parts_of_speech(verb) or not wanted or _AUXILIARY.search(rest):
        return []
    sides = [_sides(stem(verb), s) for s in sentences]
    if sides[0] is None:
        return []
    before, after = sides[0]
    # Most of the words must be the sentence's: "the band f(x)" of a sentence on another band.
    if len(wanted & (before | after)) * 2 <= len(wanted):
        return []
    if not (wanted & before) - after or wanted & after - before:
        return []
    if any(side and wanted & side[1] - side[0] for side in sides[1:]):
        return []  # another sentence has it the asked way round
    return [(said, rest)]


def _sides(verb: str, sentence: str) -> tuple[frozenset[str], frozenset[str]] | None:
    """The content stems of the clause before the sentence's first form of `verb` (from the
    last comma, semicolon or colon) and of all after it; None if the sentence has none."""
    words = [w.lower() for w in _CLAUSE_WORD.findall(sentence)]
    at = next((i for i, w in enumerate(words) if stem(w) == verb), None)
    if at is None:
        return None
    opens = max((i for i, w in enumerate(words[:at]) if w in ",;:"), default=-1)
    return stems(" ".join(words[opens + 1 : at])), stems(" ".join(words[at + 1 :]))


# What a comparison holds against: the words after "than", to the clause's end.
_THAN = re.compile(r"\bthan\b([^,;:.()]*)", re.IGNORECASE)
_CLAUSE_END = re.compile(r"\b(?:and|but|since|because|which|who|while|when|as|whereas)\b")
_COUNTING = frozenset(("hundred", "thousand", "million", "billion", "trillion"))
_COUNT_FIRST = re.compile(rf"\s*(?:\d|(?:a|an|the)?\s*(?:{'|'.join(NUMBER_WORDS)})\b)")


def _compared(text: str) -> list[str]:
    """The first three content words a comparison holds against ("than for internal combustion
    engines" -> internal, combustion, engines); none where "than" is followed by a number
    ("more than 670": a number's qualifier, which the number check reads)."""
    found = _THAN.search(text)
    if found is None:
        return []
    rest = _CLAUSE_END.split(found.group(1).lower())[0]
    if _COUNT_FIRST.match(rest):
        return []
    return [w for w in _WORD.findall(rest) if w in terms(w) and w not in _COUNTING][:3]


def changed_comparison(claim: str, cited_sentence: str) -> list[tuple[str, str]]:
    """(claim's, sentence's) where both compare with "than" and the claim holds its thing
    against another: words of its own there, not akin to the sentence's own ("lower than that
    of a steam engine" of "lower than for internal combustion engines"). A number after "than"
    is the number check's.

    >>> s = "Boilers make the ratio of a steam plant lower than for internal combustion engines."
    >>> changed_comparison("The ratio of a steam plant is lower than that of a steam engine.", s)
    [('steam engine', 'internal combustion engines')]
    >>> changed_comparison("The ratio of a steam plant is lower than for combustion engines.", s)
    []
    >>> changed_comparison("It drew more than 670 arrests.", "More than 670 people were held.")
    []
    """
    ours, theirs = _compared(claim), _compared(cited_sentence)
    our_stems, their_stems = {stem(w) for w in ours}, {stem(w) for w in theirs}
    own = [w for w in ours if stem(w) not in their_stems]
    other = [w for w in theirs if stem(w) not in our_stems]
    if not own or not other or any(akin(a, b) for a in own for b in other):
        return []
    return [(" ".join(ours), " ".join(theirs))]
