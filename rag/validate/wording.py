"""The words that change what a claim says: numbers, names, qualifiers and relations, each found
in a claim and looked for in the text it cites. Pure functions over strings (support.py uses
them to flag a claim).

Each check was shaped by claims people and the embedded model wrote from Wikipedia and news
passages (docs/validator.md): a name the passage holds only in its title, "COVID" against
"Covid-19", a number a clause away from the words it belongs to, "roughly" for "nearly".
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

import Stemmer

from rag.text import sentences, terms

_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
)
_TENS = "thirty forty fifty sixty seventy eighty ninety"
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(_UNITS.split())}
_NUMBER_WORDS.update({w: str(10 * i) for i, w in enumerate(_TENS.split(), start=3)})
_DIGITS = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?")
_WORD = re.compile(r"[A-Za-z]+")
_TOKEN = re.compile(r"[A-Za-z]+|\d+(?:,\d{3})*(?:\.\d+)?")
_CONTEXT_TOKEN = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?(?![A-Za-z])|[A-Za-z0-9]+")
# Capitalized words; the first word of a sentence proves nothing, so callers skip it.
# A name may be hyphenated ("Jong-chul", "Covid-19"): its parts together are the name.
_NAME = re.compile(r"\b(?:[A-Z][A-Za-z]*[a-z][A-Za-z]*|[A-Z]{2,})(?:-[A-Za-z0-9]+)*\b")
_PART = re.compile(r"[A-Za-z]+|\d+")
_COMMON_CAPITALS = (
    "I The A An In On At Of For And But Or If It Its This That These Those He She They We You "
    "His Her Their Our Yes No Not As By To From With After Before During While When Where What "
    "Who Why How According Although However Both Some Many Most Several"
)
_NOT_NAMES = frozenset(_COMMON_CAPITALS.split())
# Words that change what a claim says when dropped; checked against the word they bear on.
# Words of one group say the same thing ("roughly 300" keeps "nearly 300").
_QUALIFIER_GROUPS = (
    "not never no",
    "only",
    "nearly almost about approximately around roughly some",
    "mostly largely",
    "partly partially",
    "rarely seldom hardly barely",
    "over",
    "under",
    "least",
    "most",
    "allegedly reportedly",
    "one",
    "c",
)
_QUALIFIER_OF = {w: i for i, group in enumerate(_QUALIFIER_GROUPS) for w in group.split()}
# A condition that opens a clause ("Where the laws provide ..., it can be enforced"): dropping
# it asserts what the text only supposes. Only at a clause's start, so the "where" of "the city
# where he was born" is no condition; "where" only at a sentence's start, since ", where" and
# "(where" open a relative clause about a place or a symbol.
_CONDITIONS = ("if where", "unless")
_CONDITION_OF = {
    w: len(_QUALIFIER_GROUPS) + i for i, group in enumerate(_CONDITIONS) for w in group.split()
}
_CLAUSE_CONDITION = re.compile(r"(?:^|[,;:(]\s*|\.\s+)(if|unless)\b|(?:^|\.\s+)(where)\b", re.I)
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
    ("north northern", "south southern"),
    ("east eastern", "west western"),
    ("father", "mother"),
    ("husband", "wife"),
    ("son", "daughter"),
    ("brother", "sister"),
)
_CONCEPT_OF = {
    form: (g, c)
    for g, group in enumerate(_RELATIONS)
    for c, concept in enumerate(group)
    for form in concept.split()
}
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
_STEMMER = Stemmer.Stemmer("english")
# Tokenized text ("I 'd", "wo n't", ``quoted'') joined back as written.
_SPLIT_CLITIC = re.compile(r"\s+(?=(?:'(?:s|d|ll|re|ve|m)|n't)\b)", re.I)
_TEX_QUOTES = re.compile(r"``\s*|\s*''")


# Irregular past forms the stemmer leaves apart from their verb ("wrote" / "written").
_IRREGULAR = {
    form: verb
    for verb, forms in (
        ("write", "wrote written"),
        ("sing", "sang sung"),
        ("win", "won"),
        ("begin", "began begun"),
        ("build", "built"),
        ("buy", "bought"),
        ("choose", "chose chosen"),
        ("do", "did done"),
        ("draw", "drew drawn"),
        ("drive", "drove driven"),
        ("find", "found"),
        ("fly", "flew flown"),
        ("give", "gave given"),
        ("go", "went gone"),
        ("grow", "grew grown"),
        ("hold", "held"),
        ("know", "knew known"),
        ("lead", "led"),
        ("leave", "left"),
        ("lose", "lost"),
        ("make", "made"),
        ("meet", "met"),
        ("pay", "paid"),
        ("rise", "rose risen"),
        ("run", "ran"),
        ("say", "said"),
        ("see", "saw seen"),
        ("sell", "sold"),
        ("send", "sent"),
        ("speak", "spoke spoken"),
        ("spend", "spent"),
        ("take", "took taken"),
        ("teach", "taught"),
        ("tell", "told"),
        ("think", "thought"),
        ("fight", "fought"),
        ("bring", "brought"),
        ("catch", "caught"),
        ("fall", "fell fallen"),
        ("feel", "felt"),
        ("become", "became"),
        ("come", "came"),
        ("bear", "bore born borne"),
        ("shoot", "shot"),
        ("steal", "stole stolen"),
        ("strike", "struck"),
        ("swim", "swam swum"),
        ("throw", "threw thrown"),
        ("wear", "wore worn"),
    )
    for form in forms.split()
}


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The English stem of a lowercased word; irregular past forms stem as their verb.

    >>> stem("written"), stem("wrote"), stem("writes")
    ('write', 'write', 'write')
    """
    return str(_STEMMER.stemWord(_IRREGULAR.get(word, word)))


@lru_cache(maxsize=65536)
def stems(text: str) -> frozenset[str]:
    """Stemmed content words and numbers."""
    return frozenset(stem(t) for t in terms(text))


def detokenized(text: str) -> str:
    """`text` with tokenizer spacing undone, as it would be quoted.

    >>> detokenized("I 'd say it wo n't rain, said ``Fred ''")
    'I\\'d say it won\\'t rain, said "Fred"'
    """
    text = _TEX_QUOTES.sub('"', text)
    text = re.sub(r"\bwo n't\b", "won't", text)
    text = re.sub(r"\bca n't\b", "can't", text)
    return _SPLIT_CLITIC.sub("", text)


def numbers(text: str) -> set[str]:
    """Numbers written in digits or as words, as digit strings ('1,200' -> '1200')."""
    found = {m.group().replace(",", "") for m in _DIGITS.finditer(text)}
    found |= {_NUMBER_WORDS[w] for w in _WORD.findall(text.lower()) if w in _NUMBER_WORDS}
    return found


def names(text: str) -> set[str]:
    """Capitalized words that are not the first word of a sentence."""
    out: set[str] = set()
    for sentence in sentences(text) or [text]:
        first = True
        for match in _NAME.finditer(sentence):
            word = match.group()
            if first and match.start() <= 2:
                first = False
                continue
            first = False
            if word not in _NOT_NAMES:
                out.add(word)
    return out


_DEMONYM_ENDINGS = ("ian", "ese", "ish", "an", "i", "n")


def _demonym_forms(word: str) -> set[str]:
    """A lowercased word and what it is without a people's ending ("brazilian" -> "brazil")."""
    return {word} | {
        word[: -len(e)] for e in _DEMONYM_ENDINGS if word.endswith(e) and len(word) - len(e) >= 4
    }


def missing_names(claim: str, cited: str) -> list[str]:
    """The claim's names whose words the cited text does not have, in any case or number, or as
    a people's word ("COVID" is in "Covid-19"; "Blue" in "blue"; "Huguenot" in "Huguenots";
    "Brazil" in "Brazilian").

    >>> missing_names("The Harlow Company built it with COVID funds.", "harlow company; Covid-19")
    []
    >>> missing_names("The first Huguenot outpost.", "French Huguenots founded an outpost.")
    []
    >>> missing_names("It grew in Brazil.", "Brazilian forests grew.")
    []
    >>> missing_names("Kim Jong-suk is Jong-chul's mother.", "Jong-il's mother, Kim Jong-suk")
    ['Jong-chul']
    >>> missing_names("The Kestrel Company built it.", "The Harlow Company built it.")
    ['Kestrel']
    """
    have = {stem(f) for w in _PART.findall(cited) for f in _demonym_forms(w.lower())}
    # Each part of a hyphenated name must be there: "Jong-chul" is not in "Jong-il"; "COVID"
    # is in "Covid-19", "Pile-one" in "Pile-1".
    return sorted(
        n
        for n in names(claim)
        if any(
            not any(stem(f) in have for f in _demonym_forms(p)) and _NUMBER_WORDS.get(p) not in have
            for p in _PART.findall(n.lower())
        )
    )


def _tokens(text: str) -> list[str]:
    return [t.lower().replace(",", "") for t in _TOKEN.findall(text)]


def _number_tokens(text: str) -> list[str]:
    """Words as `terms` sees them ("e6hL" is one), numbers as `numbers` writes them."""
    out = []
    for t in _CONTEXT_TOKEN.findall(text):
        low = t.lower().replace(",", "")
        out.append(_NUMBER_WORDS.get(low, low))
    return out


def _pairs(tokens: list[str]) -> list[tuple[int, str]]:
    """(qualifier group, the content word it bears on) for each qualifier in `tokens`."""
    out = []
    for i, word in enumerate(tokens):
        group = _QUALIFIER_OF.get(word)
        if group is not None:
            following = [w for w in tokens[i + 1 : i + 4] if w not in _QUALIFIER_OF]
            # "not the county": the qualified word is the first content word after it.
            target = next((w for w in following if terms(w)), None)
            if target is not None:
                out.append((group, target))
    return out


def _conditions(text: str) -> list[tuple[int, frozenset[str]]]:
    """(condition group, the stemmed content words of its clause) for each clause-opening
    condition whose clause a comma, semicolon or colon closes: without one, nothing tells the
    condition from what it conditions ("Where laws give less EU law can be enforced")."""
    out = []
    for match in _CLAUSE_CONDITION.finditer(text):
        parts = re.split(r"[,;:]", text[match.end() :], maxsplit=1)
        if len(parts) == 2:
            word = match.group(1) or match.group(2)
            out.append((_CONDITION_OF[word.lower()], stems(parts[0])))
    return out


def dropped_qualifiers(claim: str, cited_sentence: str) -> list[str]:
    """Qualifiers the cited sentence puts on a word the claim keeps, but the claim does not
    (nor one that says the same), and conditions it opens a clause with whose clause the claim
    asserts (at least two of its words, half of them or more) without a condition.

    >>> dropped_qualifiers("It has 300 rooms.", "It has nearly 300 rooms.")
    ['nearly']
    >>> dropped_qualifiers("It has roughly 300 rooms.", "It has nearly 300 rooms.")
    []
    >>> cited = "Where the laws of states give lesser rights, courts enforce it."
    >>> dropped_qualifiers("The laws give lesser rights.", cited)
    ['where']
    >>> dropped_qualifiers("States give lesser rights.", cited)
    ['where']
    >>> dropped_qualifiers("Where the laws give lesser rights, courts enforce it.", cited)
    []
    >>> dropped_qualifiers("Courts enforce it.", cited)
    []
    """
    claim_tokens = _tokens(claim)
    have = Counter(_pairs(claim_tokens))
    words = Counter(claim_tokens)
    cited_tokens = _tokens(cited_sentence)
    word_of = {g: w for w, g in (_QUALIFIER_OF | _CONDITION_OF).items() if w in cited_tokens}
    out = []
    for (group, target), n in Counter(_pairs(cited_tokens)).items():
        if have[(group, target)] < min(n, words[target]):
            out.append(word_of[group])
    claim_groups = {group for group, _ in _conditions(claim)}
    claim_stems = stems(claim)
    for group, clause in _conditions(cited_sentence):
        kept = len(clause & claim_stems)
        if group not in claim_groups and kept >= 2 and kept * 2 >= len(clause):
            out.append(word_of[group])
    return out


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
    """
    said = {w.lower() for w in _WORD.findall(cited)}
    words = {w.lower() for w in _WORD.findall(claim)}
    out = []
    for word in sorted(words - said):
        for prefix in _NEGATING:
            rest = word[len(prefix) :]
            if word.startswith(prefix) and len(rest) >= 4 and rest in said:
                out.append((word, rest))
                break
        else:
            for prefix in _NEGATING_BOTH_WAYS:
                if len(word) >= 4 and prefix + word in said:
                    out.append((word, prefix + word))
                    break
    return out


_FRAME = re.compile(
    r"^(?:(?:the\s+)?(?:sources?|passages?|documents?|articles?|texts?|reports?)\s+"
    r"(?:say|says|said|state|states|stated|show|shows|showed|report|reports|reported|note|"
    r"notes|noted|indicate|indicates|indicated|mention|mentions|mentioned)(?:\s+that)?|"
    r"according\s+to\s+(?:the\s+)?(?:sources?|passages?|documents?|articles?|reports?),?)\s+",
    re.I,
)


def unframed(claim: str) -> str:
    """The claim without an opening that attributes it to the sources, which no passage says
    of itself.

    >>> unframed("The sources say that the bridge opened in 1890.")
    'the bridge opened in 1890.'
    >>> unframed("According to the passages, it opened in 1890.")
    'it opened in 1890.'
    """
    return _FRAME.sub("", claim, count=1)


def naming(claim: str, cited_sentences: list[str]) -> list[str]:
    """The cited sentences that hold one of the claim's names: where a relation between those
    names is said, even when another sentence shares more of the claim's words.

    >>> naming("Ann Lee was its president.", ["It was founded in Oslo.", "Its editor is Ann Lee."])
    ['Its editor is Ann Lee.']
    """
    wanted = {n.lower() for n in names(claim)}
    return [s for s in cited_sentences if wanted & {w.lower() for w in _NAME.findall(s)}]


def changed_relations(claim: str, cited_sentence: str) -> list[tuple[str, str]]:
    """(claim's word, cited sentence's word) where the claim names one relation of a group and
    the sentence, lacking it, names another: "sung by" for "written by", "won" for "lost".

    >>> changed_relations("It was sung by Ann Lee.", "It was written by Ann Lee.")
    [('sung', 'written')]
    >>> changed_relations("Ann Lee wrote it.", "It was written and sung by Ann Lee.")
    []
    """
    said = {_CONCEPT_OF[w] for w in _WORD.findall(cited_sentence.lower()) if w in _CONCEPT_OF}
    word_of: dict[tuple[int, int], str] = {}
    for w in _WORD.findall(cited_sentence.lower()):
        if w in _CONCEPT_OF:
            word_of.setdefault(_CONCEPT_OF[w], w)
    out = []
    for w in _WORD.findall(claim.lower()):
        concept = _CONCEPT_OF.get(w)
        if concept is None or concept in said:
            continue
        other = next((c for c in said if c[0] == concept[0]), None)
        if other is not None:
            out.append((w, word_of[other]))
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


def distant_numbers(claim: str, cited_sentences: list[str]) -> list[str]:
    """The claim's numbers that the cited text has, but never among the words the claim puts
    around them: one of the 4 content words either side of the number in the claim must be
    among the 4 either side of it in some cited sentence. Catches a year moved from one event to
    another, even within one sentence ("since 2011" where the text has "since 2004 ... in
    2011"); a sentence or clause between the number and the claim's other words is fine.

    >>> cited = ["In 1990 he joined Bexco.", "In 1995 he founded Ytrac."]
    >>> distant_numbers("He founded Ytrac in 1990.", cited)
    ['1990']
    >>> distant_numbers("Released in 1986, the film was a hit.", ["It is a 1986 film.", "A hit."])
    []
    >>> distant_numbers("The fee is £15-100,000.", ["Access costs a fee, from £15-100,000."])
    []
    """
    places = [_number_tokens(s) for s in cited_sentences]
    out = []
    for number in sorted(numbers(claim)):
        theirs = [a for p in places for a in _around(p, number)]
        if not theirs:
            continue  # not in the cited text at all: the missing-number check's business
        # The number's words in the claim: the 4 either side of each place it stands, and the
        # rest of its clause ("In 2012 X ranked Warsaw 32nd" may be written "X ranked Warsaw
        # 32nd in 2012"). Every place counts: "since 2011 ... in 2011" moves one of them.
        clauses = [_number_tokens(c) for c in re.split(r"[,;:]", claim)]
        for ours in _around(_number_tokens(claim), number):
            ours |= {stem(w) for c in clauses if number in c for w in c if _content(w)}
            if ours and not any(ours & a for a in theirs):
                out.append(number)
                break
    return out
