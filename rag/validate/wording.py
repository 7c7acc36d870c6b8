"""The words that change what a claim says: numbers, names, qualifiers and conditions, each
found in a claim and looked for in the text it cites; stems and the claim's own framing. Pure
functions over strings (support.py uses them to flag a claim; relations.py and proximity.py
hold the relation and number-placement checks).

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
from rag.validate.lexicon import only_a_name

_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
)
_TENS = "thirty forty fifty sixty seventy eighty ninety"
NUMBER_WORDS = {w: str(i) for i, w in enumerate(_UNITS.split())}
NUMBER_WORDS.update({w: str(10 * i) for i, w in enumerate(_TENS.split(), start=3)})
_DIGITS = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?")
_WORD = re.compile(r"[A-Za-z]+")
# Words before "one" that make it a pronoun, not a count ("no one", "each one").
_PRONOUN_ONE = frozenset(("no", "each", "any", "every", "someone", "which", "this", "that"))
_TOKEN = re.compile(r"[A-Za-z]+|\d+(?:,\d{3})*(?:\.\d+)?")
# Capitalized words (a sentence's first proves nothing) and letters with digits ("Fe2O", "B52":
# a formula or code is a name anywhere); hyphenated ("Jong-chul", "Covid-19"), parts together.
_CODE = r"[A-Z][A-Za-z]*\d[A-Za-z0-9]*"
NAME = re.compile(rf"\b(?:{_CODE}|[A-Z][A-Za-z]*[a-z][A-Za-z]*|[A-Z]{{2,}})(?:-[A-Za-z0-9]+)*\b")
_CODED = re.compile(_CODE)
_PART = re.compile(r"[A-Za-z]+|\d+")
_COMMON_CAPITALS = (
    "I The A An In On At Of For And But Or If It Its This That These Those He She They We You "
    "His Her Their Our Yes No Not As By To From With After Before During While When Where What "
    "Who Why How According Although However Both Some Many Most Several"
)
NOT_NAMES = frozenset(_COMMON_CAPITALS.split())
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
_CLAUSE_BREAK = re.compile(r"[,;:]\s|[()]")
_AMOUNT_ONLY = frozenset({"over", "under"})
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
_OPENING = 8  # words of an unclosed sentence-opening condition taken for its clause
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


# Endings that make a noun of a verb ("founded" / "founder", "directed" / "director"): the
# same word for coverage, though not for the relation a sentence states.
_NOUN_ENDINGS = ("er", "or", "ion", "ation", "ment", "ance", "ence", "al")


def held_stems(claim_stems: frozenset[str], cited_stems: frozenset[str]) -> frozenset[str]:
    """The claim's stems the cited text has, as they are or as the noun or verb of one.

    >>> sorted(held_stems(stems("She founded the band"), stems("its founder and director")))
    ['found']
    """
    held = set(claim_stems & cited_stems)
    for word in claim_stems - held:
        forms = {word + e for e in _NOUN_ENDINGS} | {
            word[: -len(e)] for e in _NOUN_ENDINGS if word.endswith(e)
        }
        if any(len(f) >= 4 and f in cited_stems for f in forms if f != word):
            held.add(word)
    return frozenset(held)


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
    """Numbers written in digits or as words, as digit strings ('1,200' -> '1200'); "one" is
    not counted where it stands for someone or something ("one of the stars", "no one").

    >>> sorted(numbers("One of the two founders, 1,200 fans and no one else"))
    ['1200', '2']
    >>> sorted(numbers("It lasted one year."))
    ['1']
    """
    found = {m.group().replace(",", "") for m in _DIGITS.finditer(text)}
    words = _WORD.findall(text.lower())
    for i, w in enumerate(words):
        if w not in NUMBER_WORDS:
            continue
        after = words[i + 1] if i + 1 < len(words) else ""
        if w == "one" and (after in ("of", "another") or (i > 0 and words[i - 1] in _PRONOUN_ONE)):
            continue
        found.add(NUMBER_WORDS[w])
    return found


def names(text: str, openings: bool = False) -> set[str]:
    """Capitalized words not opening a sentence, and words of letters and digits anywhere;
    with `openings`, a sentence's first word too where English knows it only as a name
    ("Alexandria" but not "Frozen": capitalized by position, it is a name all the same).

    >>> sorted(names("Fe2O is the allotrope. Oxygen is called O2 by Priestley."))
    ['Fe2O', 'O2', 'Priestley']
    >>> sorted(names("Alexandria lies on the coast. Frozen lakes lie inland.", openings=True))
    ['Alexandria']
    """
    out: set[str] = set()
    for sentence in sentences(text) or [text]:
        for k, match in enumerate(NAME.finditer(sentence)):
            word = match.group()
            opening = k == 0 and match.start() <= 2 and not _CODED.fullmatch(word)
            if word not in NOT_NAMES and (not opening or (openings and only_a_name(word))):
                out.add(word)
    return out


@lru_cache(maxsize=8192)
def name_words(text: str, anywhere: bool = False) -> frozenset[str]:
    """The stemmed, lowercased parts of the text's names; with `anywhere`, a capitalized first
    word counts too (a title, or a claim that opens with a name).

    >>> sorted(name_words("Sid Haig met Vic Darchinyan-Lee."))
    ['darchinyan', 'haig', 'lee', 'vic']
    >>> sorted(name_words("Sid Haig met him.", anywhere=True))
    ['haig', 'sid']
    """
    found = {w for w in NAME.findall(text) if w not in NOT_NAMES} if anywhere else names(text)
    # Cached: re-attribution asks it of each passage once per pair it might join.
    return frozenset(stem(p.lower()) for name in found for p in _PART.findall(name))


_DEMONYM_ENDINGS = ("ian", "ese", "ish", "an", "i", "n")


def _demonym_forms(word: str) -> set[str]:
    """A lowercased word and what it is without a people's ending ("brazilian" -> "brazil")."""
    return {word} | {
        word[: -len(e)] for e in _DEMONYM_ENDINGS if word.endswith(e) and len(word) - len(e) >= 4
    }


def missing_names(claim: str, cited: str) -> list[str]:
    """The claim's names whose words the cited text does not have, in any case or number, or as
    a people's word ("COVID" is in "Covid-19"; "Blue" in "blue"; "Huguenot" in "Huguenots";
    "Brazil" in "Brazilian"); a sentence's first word counts where it is only a name.

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
    >>> missing_names("Alexandria Airport is in Jefferson County.", "Watertown Airport is in "
    ...               "Jefferson County.")
    ['Alexandria']
    >>> missing_names("Frozen water is ice.", "Water is ice when cold.")
    []
    """
    have = {stem(f) for w in _PART.findall(cited) for f in _demonym_forms(w.lower())}
    # Each part of a hyphenated name must be there: "Jong-chul" is not in "Jong-il"; "COVID"
    # is in "Covid-19", "Pile-one" in "Pile-1".
    return sorted(
        n
        for n in names(claim, openings=True)
        if any(
            not any(stem(f) in have for f in _demonym_forms(p)) and NUMBER_WORDS.get(p) not in have
            for p in _PART.findall(n.lower())
        )
    )


def _tokens(text: str) -> list[str]:
    return [t.lower().replace(",", "") for t in _TOKEN.findall(text)]


def _pairs(tokens: list[str], every: bool = False) -> list[tuple[int, str]]:
    """(qualifier group, the content word it bears on) for each qualifier in `tokens`; with
    `every`, each content word of the next three may be the one (a claim may put a word
    between them: "under the revised policy" keeps the "under" of "under the policy")."""
    out = []
    for i, word in enumerate(tokens):
        group = _QUALIFIER_OF.get(word)
        if group is not None:
            following = [w for w in tokens[i + 1 : i + 4] if w not in _QUALIFIER_OF]
            # "not the county": the qualified word is the first content word after it.
            targets = [w for w in following if terms(w)]
            if word in _AMOUNT_ONLY:
                # "under 300" qualifies a number; "under the policy" is a place in the text.
                targets = [w for w in targets[:1] if any(c.isdigit() for c in w)]
            out += [(group, t) for t in (targets if every else targets[:1])]
    return out


def _conditions(text: str) -> list[tuple[int, frozenset[str]]]:
    """(condition group, the stemmed content words of its clause) for each clause-opening
    condition whose clause a comma, semicolon or colon closes: without one, nothing tells the
    condition from what it conditions ("Where laws give less EU law can be enforced")."""
    out = []
    for match in _CLAUSE_CONDITION.finditer(text):
        parts = re.split(r"[,;:]", text[match.end() :], maxsplit=1)
        word = match.group(1) or match.group(2)
        if len(parts) == 2:
            out.append((_CONDITION_OF[word.lower()], stems(parts[0])))
        elif match.start() == 0:
            # Opening the sentence, unclosed: its first words are the condition's, those of
            # them the rest of the sentence does not say ("Where the laws provide for lesser
            # rights EU law can be enforced by the courts of member states").
            words = parts[0].split()
            clause = stems(" ".join(words[:_OPENING])) - stems(" ".join(words[_OPENING:]))
            out.append((_CONDITION_OF[word.lower()], clause))
    return out


def dropped_qualifiers(claim: str, cited_sentence: str) -> list[str]:
    """Qualifiers the cited sentence puts on a word the claim keeps, but the claim does not
    (nor one that says the same), and conditions it opens a clause with whose clause the claim
    asserts (at least two of its words, half of them or more) without a condition.

    >>> dropped_qualifiers("It has 300 rooms.", "It has nearly 300 rooms.")
    ['nearly']
    >>> dropped_qualifiers("It has roughly 300 rooms.", "It has nearly 300 rooms.")
    []
    >>> dropped_qualifiers("Under the new policy, it ends.", "Under the policy, it ends.")
    []
    >>> dropped_qualifiers("The policy says it ends.", "Under the policy, it ends.")
    []
    >>> dropped_qualifiers("It has 300 rooms.", "It has over 300 rooms.")
    ['over']
    >>> dropped_qualifiers("Waste heat is removed.", "Some heat is lost and waste heat is removed.")
    []
    >>> dropped_qualifiers("There were 91.3 men.", "Of those 18 and over, there were 91.3 men.")
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
    >>> cited = "Where the laws of states provide for lesser rights EU law is enforced by states."
    >>> dropped_qualifiers("The laws provide for lesser rights.", cited)
    ['where']
    >>> dropped_qualifiers("EU law is enforced by the states.", cited)
    []
    """
    claim_tokens = _tokens(claim)
    have = Counter(_pairs(claim_tokens, every=True))
    words = Counter(claim_tokens)
    cited_tokens = _tokens(cited_sentence)
    word_of = {g: w for w, g in (_QUALIFIER_OF | _CONDITION_OF).items() if w in cited_tokens}
    # A qualifier bears on its own clause ("age 18 and over, there were 91.3 males").
    qualified = Counter(
        pair for clause in _CLAUSE_BREAK.split(cited_sentence) for pair in _pairs(_tokens(clause))
    )
    targets = Counter(target for _, target in qualified.elements())
    cited_words = Counter(cited_tokens)
    out = []
    for (group, target), n in qualified.items():
        # The claim may restate the word where the sentence says it without a qualifier
        # ("some of the heat ... the waste heat being removed").
        bare = cited_words[target] - targets[target]
        if have[(group, target)] < min(n, words[target] - bare):
            out.append(word_of[group])
    claim_groups = {group for group, _ in _conditions(claim)}
    claim_stems = stems(claim)
    for group, clause in _conditions(cited_sentence):
        kept = len(clause & claim_stems)
        if group not in claim_groups and kept >= 2 and kept * 2 >= len(clause):
            out.append(word_of[group])
    return out
