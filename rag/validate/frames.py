"""A fact changed inside a copied sentence: the claim keeps its passage's sentence word for word
around one spot and says something else there. "Cilia usually swim in the direction in which
the mouth is pointing" of "Hence ctenophores usually swim in the direction ..."; "made the 911
call" of "received a 911 call"; "He is a member of ..." of a passage that calls its subject
"she". Every word of such a claim is in its passage, so coverage and similarity pass it; what
gives it away is the one spot where it leaves the sentence (support.py flags it).

A word put for another passes when the two may mean the same (lexicon.py: "movie" for
"film", "established" for "founded"); it is flagged when they do not and the claim's word is
taken from elsewhere in the cited text, or put where the sentence names a relation.
"""

from __future__ import annotations

import difflib
import re
from itertools import pairwise

from rag.text import terms
from rag.validate.lexicon import akin, opposed, parts_of_speech
from rag.validate.relations import role_word
from rag.validate.wording import stem

_TOKEN = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*|\d+(?:[.,]\d+)*")
_SPAN = 4  # the most words on either side of one changed spot
_WORDS = 2  # the most content words a swap puts in, or takes out
_ANCHOR = 2  # copied words next to it, on one side at least
_COPIED = 0.6  # share of the claim's words copied in order from the sentence
# Words a claim may not add to a sentence it copies: each says something the sentence does not.
_ADDED = (("not", "never", "no"), ("only",), ("last", "final"), ("first",), ("all", "every"))
_ADDED_OF = {w: group for group in _ADDED for w in group}
# Words that say what no passage leaves unsaid: a claim may not add them to its cited text.
_STRONG = (("only", "sole", "solely", "alone"), ("last", "final", "finally"), ("never",))
_STRONG_OF = {w: group for group in _STRONG for w in group}
_NEAR = 5  # "born 3 May 1950 in Oslo"
_NEIGHBOURS = 2  # words around a claim's "not" a sentence must hold to be where it is read
_PLACE = re.compile(r"\b(born|died)\s+(?:in|at)\s+(?:the\s+)?([A-Z][\w'-]+)")
_PASSIVE = re.compile(r"\b([a-z]+(?:ed|en|wn))\s+by\s+([^,.;:()]+)", re.I)
_PRONOUN_WORDS = "he she it they we you i him her them his its their this that who"
_PRONOUNS = frozenset(_PRONOUN_WORDS.split())
_MODAL_WORDS = "can could may might will would must should"
_MODALS = frozenset(_MODAL_WORDS.split())
# Before a verb, these make it passive ("were attacked") or a noun ("a border").
_NOT_ACTIVE_WORDS = "a an the this that its their his her our is are was were be been being"
_NOT_ACTIVE = frozenset(_NOT_ACTIVE_WORDS.split())
_NOUN_ENDINGS = ("ion", "ions", "ive", "ives", "er", "ers", "ment", "ments", "ate")
_CLAUSE = re.compile(r"[,;:()]")
_HEAD_OF = re.compile(r"^(?:[a-z-]+ ){1,2}of(?: the| a| an)?$")
_OPENS = re.compile(r"(?:^|[.!?:]\s+|\[\d+\]\s*)$")
_MALE = frozenset(("he", "him", "his", "himself"))
_FEMALE = frozenset(("she", "her", "hers", "herself"))
NEGATIONS = frozenset(_ADDED[0])  # the words that say "not" outright
# What says "not" in a sentence: a "not" next to its words is no change where one of these is.
NEGATES = re.compile(
    r"\b(?:not|no|never|none|nor|neither|without|cannot|except|excluding|other than|"
    r"rather than|instead of)\b|n't\b",
    re.I,
)


def _words(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


def _named(text: str) -> list[bool]:
    """For each word, whether it is written capitalised other than at a sentence's start:
    taken for a name, which the name check reads (wording.missing_names)."""
    return [
        m.group()[0].isupper() and not _OPENS.search(text[: m.start()])
        for m in _TOKEN.finditer(text)
    ]


def swapped_words(
    claim: str, sentence: str, cited: list[str], copied: float = _COPIED
) -> list[tuple[str, str]]:
    """(claim's word, sentence's word) at each spot where a claim that copies `sentence`
    puts one word for another that does not mean the same; (word, "") for a "not", "only",
    "first", "last" or "all" the claim adds. `cited` is every cited sentence: a word is taken
    from elsewhere when one of them has it, and none that holds half the claim's words.

    >>> s = "Hence ctenophores usually swim in the direction of the mouth."
    >>> swapped_words("Cilia usually swim in the direction of the mouth.", s, [s, "Cilia beat."])
    [('cilia', 'ctenophores')]
    >>> swapped_words("Ctenophores normally swim in the direction of the mouth.", s, [s])
    []
    >>> s = "The Sheriff's Office received a 911 call from the agency."
    >>> swapped_words("The Sheriff's Office made the 911 call.", s, [s])
    [('made', 'received')]
    >>> s = "The film was shot in Wilmington in 1985."
    >>> swapped_words("The movie was shot in Wilmington in 1985.", s, [s])
    []
    >>> swapped_words("The film was not shot in Wilmington in 1985.", s, [s])
    [('not', '')]
    """
    claim_words, sentence_words = _words(claim), _words(sentence)
    if not claim_words or not sentence_words:
        return []
    matcher = difflib.SequenceMatcher(None, claim_words, sentence_words, autojunk=False)
    blocks = matcher.get_opcodes()
    same = sum(i2 - i1 for tag, i1, i2, _, _ in blocks if tag == "equal")
    if same < copied * len(claim_words):
        return []
    claim_stems = {stem(w) for w in claim_words if _content(w)}
    # Words said elsewhere, as written, but not where a sentence holds half the claim: a claim
    # may take its word from the sentence that says it ("Northern San Diego has most ...").
    elsewhere: set[str] = set()
    others: list[list[str]] = []  # the words of the other sentences
    for other in cited:
        words = _words(other)
        if other not in sentence:
            others.append(words)
        if len(claim_stems & {stem(w) for w in words}) * 2 < len(claim_stems):
            elsewhere.update(words)
    elsewhere.update(sentence_words)
    claim_marked = list(zip(claim_words, _named(claim), strict=True))
    sentence_marked = list(zip(sentence_words, _named(sentence), strict=True))
    said = set(sentence_words)
    out: list[tuple[str, str]] = []
    for k, (tag, i1, i2, j1, j2) in enumerate(blocks):
        if tag == "insert" and k + 1 < len(blocks) and blocks[k + 1][0] == "equal":
            out += _head_dropped(sentence_words[j1:j2], claim_words[i1 : blocks[k + 1][2]], i1)
        if tag not in ("replace", "delete") or i2 - i1 > _SPAN or j2 - j1 > _SPAN:
            continue
        if not any(
            0 <= k + d < len(blocks)
            and blocks[k + d][0] == "equal"
            and blocks[k + d][2] - blocks[k + d][1] >= _ANCHOR
            for d in (-1, 1)
        ):
            continue
        ours = [w for w, name in claim_marked[i1:i2] if not name]
        theirs = [w for w, name in sentence_marked[j1:j2] if not name]
        out += [(w, "") for w in ours if w in _ADDED_OF and not said & set(_ADDED_OF[w])]
        out += _put_for(ours, theirs, claim_stems, elsewhere, said)
        head = claim_words[i2 : i2 + 1]
        if i2 - i1 == 1 == j2 - j1 and head and head == sentence_words[j2 : j2 + 1]:
            out += _other_kind(ours, theirs, head[0], others)
    return list(dict.fromkeys(out))


_COMPOUND = re.compile(r"\b([a-z0-9]+)-([a-z0-9]+(?:-[a-z0-9]+)*)\b")


def changed_compounds(said: str, text: str) -> list[tuple[str, str]]:
    """(hyphened word, the passages') where `said`, a question or a claim, has a hyphened word
    whose last part the passages (`text`) hold only after another first part, not akin to its
    own: "Seven-Day War" of "Six-Day War" (a question's premise, or a claim cited to a passage
    that has it and one that says "Seven Years' War").

    >>> changed_compounds("Who won the Seven-Day War?", "In the Six-Day War Israel won.")
    [('seven-day', 'six-day')]
    >>> changed_compounds("Who is the best-known poet?", "He is a well-known poet.")
    []
    """
    held = {(m.group(1), m.group(2)) for m in _COMPOUND.finditer(text.lower())}
    out = []
    for match in _COMPOUND.finditer(said.lower()):
        first, rest = match.groups()
        others = [f for f, r in sorted(held) if r == rest and f != first]
        if (first, rest) not in held and others and not akin(first, others[0]):
            out.append((match.group(), f"{others[0]}-{rest}"))
    return out


def swapped_names(question: str, sentence: str) -> list[tuple[str, str]]:
    """(question's name, sentence's name) where a question that copies `sentence` around one
    spot puts one name for another there, before the same word and after copied words, and
    the sentence does not hold the question's name ("How much water does the Rhine discharge
    at the French border?" of "... the discharge at the Dutch border"), or as its last word
    after three copied ones. A name the sentence holds elsewhere, or one standing for the
    other ("US" / "American"), is no swap.

    >>> s = "It provides a fifth of the discharge at the Dutch border."
    >>> swapped_names("How much is the discharge at the French border?", s)
    [('french', 'dutch')]
    >>> swapped_names("How much is the discharge at the Dutch border?", s)
    []
    >>> swapped_names("How much does it provide at the French border?", s + " French border.")
    []
    >>> swapped_names("What sits Tuesdays and Fridays?", "It sits Tuesdays and Thursdays in June.")
    [('fridays', 'thursdays')]
    """
    ours, theirs = _words(question), _words(sentence)
    named, their_named = _named(question), _named(sentence)
    blocks = difflib.SequenceMatcher(None, ours, theirs, autojunk=False).get_opcodes()
    held = {stem(w) for w in theirs}
    out = []
    for k in range(1, len(blocks)):
        tag, i1, i2, j1, j2 = blocks[k]
        last = i2 == len(ours) and blocks[k - 1][2] - blocks[k - 1][1] >= 3
        if tag != "replace" or i2 - i1 != 1 or (j2 - j1 != 1 and not last):
            continue
        if not (named[i1] and their_named[j1]) or blocks[k - 1][0] != "equal":
            continue
        after = blocks[k + 1] if k + 1 < len(blocks) else None
        if not last and (after is None or after[0] != "equal" or not _content(ours[after[1]])):
            continue
        said, other = ours[i1], theirs[j1]
        if stem(said) not in held and not akin(said, other):
            out.append((said, other))
    return out


def _other_kind(
    ours: list[str], theirs: list[str], head: str, others: list[list[str]]
) -> list[tuple[str, str]]:
    """(claim's word, sentence's word) where one word before the same noun is put for another
    and the passage names the claim's kind elsewhere: "BSkyB's interactive service was
    launched as Sky Digital" of "BSkyB's digital service was launched as Sky Digital ... an
    interactive service branded Open": the passage tells the two apart."""
    if len(ours) != 1 or len(theirs) != 1 or not _content(ours[0]):  # names: name check
        return []
    if not _content(head) or "n" not in parts_of_speech(head):
        return []  # "part of", "kind of": no thing the passage names
    word = ours[0]
    if not any((word, head) in pairwise(words) for words in others):
        return []
    if stem(word) == stem(theirs[0]) or akin(word, theirs[0]):
        return []
    return [(word, theirs[0])]


def _head_dropped(theirs: list[str], kept: list[str], at: int) -> list[tuple[str, str]]:
    """The claim leaves out "the legislature of" and makes "the European Union" the subject:
    only at the claim's start, where the subject stands."""
    span = " ".join(theirs)
    if at > 1 or len(kept) < _ANCHOR or not _HEAD_OF.match(span):
        return []
    whole = " ".join(kept[:3])
    return [(whole, f"{span} {whole}")]


def _content(word: str) -> bool:
    return bool(terms(word)) and not word[0].isdigit() and word not in _PRONOUNS


def _put_for(
    ours: list[str],
    theirs: list[str],
    claim_stems: set[str],
    elsewhere: set[str],
    said: set[str],
) -> list[tuple[str, str]]:
    their_stems = {stem(w) for w in theirs}
    new = [w for w in ours if _content(w) and stem(w) not in their_stems]
    lost = [w for w in theirs if _content(w) and stem(w) not in claim_stems]
    if not new or not lost:
        return []
    opposite = [(a, b) for a in new for b in lost if opposed(a, b)]
    if opposite:
        return opposite[:1]  # "right" for "left", "specific" for "general"
    if any(akin(a, b) for a in new for b in lost):
        return []
    # Flagged: a word taken from elsewhere in the passage ("cilia", said of something else
    # there; one the sentence lacks is put first, "cilia" before "direction"), or one put where
    # the sentence names a role ("made" a call it "received"). A word the passage lacks is a
    # paraphrase as often as not ("persons", "prior to", "called"): coverage and similarity
    # weigh it.
    taken = sorted(
        (a for a in new if _written(a, elsewhere) and _thing(a)), key=lambda a: a in said
    )
    if taken and len(new) <= _WORDS and len(lost) <= _WORDS and any(_names_thing(b) for b in lost):
        return [(taken[0], max(lost, key=len))]
    roles = [b for b in lost if role_word(b)]
    if roles and any(parts_of_speech(a) & {"v", "n"} for a in new):
        return [(new[0], roles[0])]
    return []


def _written(word: str, words: set[str]) -> bool:
    """Whether `word` is among `words` as written, or in the singular or plural: "adaptation"
    is not "adapted"."""
    return bool({word, word + "s", word.removesuffix("s")} & words)


def _names_thing(word: str) -> bool:
    return "-" in word or bool(parts_of_speech(word) & {"n", "a"})


def _thing(word: str) -> bool:
    """Whether the word names only things or qualities (noun or adjective senses): a verb put
    for a verb, or its participle, is a paraphrase as often as not ("adopted as" for
    "became", "developed for" for "presented to")."""
    return _names_thing(word) and "v" not in parts_of_speech(word)


def changed_pronoun(claim: str, cited: str) -> list[tuple[str, str]]:
    """("he", "she") when the claim calls someone "he" and its cited text speaks only of
    "she", and the other way round.

    >>> changed_pronoun("He is a member of the band.", "Zia McCabe is a member. She also DJs.")
    [('he', 'she')]
    >>> changed_pronoun("She is a member of the band.", "Zia McCabe is a member. She also DJs.")
    []
    """
    ours, theirs = set(_words(claim)), set(_words(cited))
    for one, other in ((_MALE, _FEMALE), (_FEMALE, _MALE)):
        if ours & one and theirs & other and not theirs & one:
            return [(sorted(ours & one)[0], sorted(theirs & other)[0])]
    return []


def added_words(claim: str, cited: str) -> list[tuple[str, str]]:
    """(word, "") for an "only", "last" or "never" in the claim whose cited text says none
    of its kind.

    >>> added_words("The term was last used in 1700.", "The term was used since 1500-1700.")
    [('last', '')]
    >>> added_words("It is the only bridge.", "It is the sole bridge across the river.")
    []
    """
    said = set(_words(cited))
    strong = [w for w in dict.fromkeys(_words(claim)) if w in _STRONG_OF]
    return [(w, "") for w in strong if not said & set(_STRONG_OF[w])]


def unsaid_negation(claim: str, cited_sentences: list[str]) -> list[tuple[str, str]]:
    """(word, "") for a "not", "never" or "no" of the claim whose neighbouring words a cited
    sentence holds while that sentence negates nothing: "algorithms that could not be used to
    solve it" of "all possible algorithms that solve a given problem".

    >>> said = ["Lower bounds speak of all algorithms that solve a problem.", "It is hard."]
    >>> unsaid_negation("Algorithms that could not be used to solve a problem.", said)
    [('not', '')]
    >>> unsaid_negation("No algorithm can solve it faster.", ["No algorithm solves it faster."])
    []
    """
    words = _words(claim)
    if not NEGATIONS.intersection(words):
        return []
    said = [{stem(w) for w in _words(s)} for s in cited_sentences]
    for i, word in enumerate(words):
        if word not in NEGATIONS:
            continue
        near = {stem(w) for w in words[max(0, i - _NEAR) : i + _NEAR + 1] if _content(w)}
        near -= NEGATIONS
        if len(near) < _NEIGHBOURS:
            continue
        held = [len(near & s) for s in said]
        most = max(held, default=0)
        # Where sentences hold its words equally, any of them may be the one it says.
        closest = [s for s, n in zip(cited_sentences, held, strict=True) if n == most]
        if most >= _NEIGHBOURS and not any(NEGATES.search(s) for s in closest):
            return [(word, "")]
    return []


def moved_place(claim: str, cited_sentences: list[str]) -> list[tuple[str, str]]:
    """("born in X", "") when no cited sentence puts X within a few words after "born" (or
    "died"): a passage's "a wrestler from Hiroshima" is not where he was born.

    >>> moved_place("He was born in Kure.", ["He (born 17 May 1969) is a wrestler from Kure."])
    [('born in Kure', '')]
    >>> moved_place("He was born in Oslo.", ["He (born 3 May 1950 in Oslo) is a poet."])
    []
    """
    out = []
    for match in _PLACE.finditer(claim):
        verb, place = stem(match.group(1).lower()), match.group(2).lower()
        near = any(
            w == place and verb in {stem(v) for v in words[max(0, i - _NEAR) : i]}
            for words in map(_words, cited_sentences)
            for i, w in enumerate(words)
        )
        if not near:
            out.append((f"{match.group(1)} in {match.group(2)}", ""))
    return out


def changed_agent(claim: str, sentence: str) -> list[tuple[str, str]]:
    """(claim's doer, sentence's doer) when the sentence says a thing was done by someone and
    the claim says, actively, that someone else did it.

    >>> s = "Where laws give less, EU law can be enforced by the courts of member states."
    >>> changed_agent("The European Court of Justice can enforce EU law.", s)
    [('european court of justice', 'the courts of member states')]
    >>> changed_agent("The courts of member states can enforce EU law.", s)
    []
    """
    out = []
    for match in _PASSIVE.finditer(sentence):
        verb = stem(match.group(1).lower())
        agent = {stem(w) for w in _words(match.group(2)) if _content(w)}
        if re.search(rf"\b{re.escape(match.group(1))}\s+by\b", claim, re.I):
            continue  # the claim says it passively too
        for found in _TOKEN.finditer(claim):
            word = found.group().lower()
            if stem(word) != verb or word.endswith(_NOUN_ENDINGS):
                continue
            before = _words(_CLAUSE.split(claim[: found.start()])[-1])[-_SPAN - 2 :]
            after = _words(claim[found.end() :])[:1]
            if after == ["by"] or not before or before[-1] in _NOT_ACTIVE:
                continue  # said passively too, or a noun ("a border")
            doer = [k for k, x in enumerate(before) if _content(x) and x not in _MODALS]
            ours = {stem(before[k]) for k in doer}
            if ours and ours - agent and agent - ours:
                said = " ".join(before[doer[0] : doer[-1] + 1])
                out.append((said, match.group(2).strip().lower()))
    return out
