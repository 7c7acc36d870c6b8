"""A question that takes for granted what its passages do not say. "When the Rhine took a right
turn what did it create?" of a passage where it took a left one; "When was Warsaw ranked the
22nd most liveable city?" of one that ranks it 32nd. An answer can be true, cited and checked
and still not answer such a question: the passages answer another. The check reads the
question against every passage the answer was given for what a question may not change: a
year, amount or ordinal none of them holds; a verb that denies ("forbidden", "failed") none of
them says; a word the closest sentence says the opposite of ("right" / "left", "specific" /
"general", "unencrypted" / "encrypted"); an order, direction or amount said otherwise ("after"
/ "before", "westward" / "easterly"); a "not" the sentence does not say; a thing the sentence
does not name put for one it does ("cilia" / "ctenophores"); a name's thing given to another
("Euler's little theorem" of "Fermat's"); a relation turned round ("What precedes X?" of "X
precedes Y"); an adjective said to the contrary ("few" / "numerous"); a hyphened word with its
first part changed ("Seven-Day" / "Six-Day"); a verb the closest sentence negates, asked as if
it held ("found" / "not found"); a name put for another before the same word ("the French
border" / "the Dutch border"). Not a name missing (a multi-hop
question names what a later passage holds) nor any other word taken from elsewhere in the
passage (questions do it as they paraphrase). The policy abstains on what it finds
(rag/answer/settle.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from rag.text import asks_yes_no, sentences, terms
from rag.validate.asked import MONTH_NAMES, asked_for
from rag.validate.frames import (
    NEGATES,
    NEGATIONS,
    changed_compounds,
    swapped_names,
    swapped_words,
)
from rag.validate.lexicon import akin, contrary, opposed, parts_of_speech, synsets
from rag.validate.persons import changed_first_names, changed_owners
from rag.validate.relations import changed_relations, negated_words, turned_round
from rag.validate.wording import missing_names, stem, stems

# A question copies less of its passage's sentence than a claim does: its "what", "when",
# "did" and the word it asks for are not in it.
_QUESTION_COPY = 0.3
_COVERED = 0.6  # share of the question's words its closest sentence must hold to be read
_NEGATION_COVERED = 0.4  # the share for a "not" the question adds, read on a looser sentence
# Verbs that say "not" of what follows them: "What form are most hospital medications forbidden
# from being?" of a passage that says what form they are.
_DENYING_WORDS = (
    "forbid forbade forbidden prohibit ban banned refuse fail lack deny denied reject ignore "
    "neglect avoid cease exclude"
)
_DENYING = frozenset(stem(w) for w in _DENYING_WORDS.split())
_WORD = re.compile(r"[a-z]+")
_CLAUSE_WORD = re.compile(r"[a-z]+|[,;:]", re.I)
_SPAN = re.compile(r"\b(\d{4})[\u2013-](\d{2})\b")
_ORDINAL_WORDS = "first second third fourth fifth sixth seventh eighth ninth tenth"
_ORDINALS = {w: n for n, w in enumerate(_ORDINAL_WORDS.split(), start=1)}
READS = frozenset(("numbers", "words", "swapped names", "loose negation"))
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:,\d{3})*(?:\.\d+)?)(st|nd|rd|th|'s|s)?\b", re.I)


def _plain(text: str) -> str:
    """Without accents: a question typed "Mongke" names the passages' "Möngke"."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def false_premises(
    question: str,
    passages: Sequence[str],
    reads: frozenset[str] = READS,
    covered: float = _COVERED,
) -> list[str]:
    """What `question` says that the passages do not, one line each; empty when nothing.
    `reads` and `covered` are the measured options (bench/premise_check.py): what is read
    ("numbers", "words", "swapped names", "loose negation", and off by default "names" none
    holds, "taken" words from elsewhere),
    and the share of the question's words its closest sentence must hold for "words".

    >>> passages = ["The Rhine took a left turn, creating the Channel River.", "It is long."]
    >>> false_premises("When the Rhine took a right turn what did it create?", passages)
    ["it says 'right' where the closest passage says 'left': The Rhine took a left turn, \
creating the Channel River."]
    >>> false_premises("When the Rhine took a left turn what did it create?", passages)
    []
    >>> false_premises("What did the Rhine create in 1850?", passages)
    ['it asks about 1850, which no passage found gives']
    >>> false_premises("How long did the Rhine last?", passages)
    []
    """
    found = []
    joined = " ".join(passages)
    missing = missing_numbers(question, joined) if "numbers" in reads else []
    if missing:
        found.append(f"it asks about {', '.join(missing)}, which no passage found gives")
    if "words" in reads:
        found += [f"it says {w!r}, which no passage found says" for w in denying(question, joined)]
        found += [
            f"it names {n!r}, which no passage found does"
            for n in changed_first_names(question, joined) + changed_owners(question, joined)
        ]
    names = missing_names(_plain(question), _plain(joined)) if "names" in reads else []
    if names:
        found.append(f"it names {', '.join(names)}, which no passage found does")
    singles = [s for text in passages for s in (sentences(text) or [text])]
    # A yes/no question the closest sentence says otherwise is answered "No" ("Did the
    # operations succeed?" of "they all failed"): its words are not read against it.
    if not singles or not reads & {"words", "taken"} or asks_yes_no(question):
        return found
    asked = stems(question)
    closest = max(singles, key=lambda s: len(asked & stems(s)))
    held = len(asked & stems(closest))
    if held < covered * len(asked):
        # No sentence restates the question: a multi-hop question's words are spread over
        # passages, and its closest sentence is about another of its hops. A "not" it adds
        # is read on less ("Which job does not require that the member be a citizen of the
        # UK?" of "members must be ... a citizen of the United Kingdom").
        if "loose negation" in reads and held >= _NEGATION_COVERED * len(asked):
            found += _described(added_negation(question, closest), closest)
        return found
    swapped = swapped_words(question, closest, singles, copied=_QUESTION_COPY)
    # Of the words a claim may not add, a question adds only a negation: "how long did it last"
    # asks, where a claim's "last" states.
    changes = [
        (said, other)
        for said, other in swapped
        if "taken" in reads
        or opposed(said, other)
        or (not other and said in NEGATIONS)
        or other_thing(question, closest, said, other)
    ]
    if "words" in reads:
        changes += added_negation(question, closest)
        changes += negated_words(question, closest)
        changes += contrary_words(question, closest, joined)
        changes += dropped_negation(question, closest)
        changes += changed_compounds(question, joined)
        changes += changed_relations(question, closest, roles=False)
    if "swapped names" in reads:
        changes += swapped_names(question, closest)
    found += _described(changes, closest)
    if "words" in reads:
        found += [
            f"it asks what {verb} {rest}, where the closest passage turns that round: {closest}"
            for verb, rest in turned_round(question, [closest, *singles])
        ]
    return found


def _described(changes: list[tuple[str, str]], closest: str) -> list[str]:
    """A line for each (question's word, closest sentence's word or "") change, once."""
    return [
        f"it says {said!r} where the closest passage says {other!r}: {closest}"
        if other
        else f"it says {said!r}, which the closest passage does not: {closest}"
        for said, other in dict.fromkeys(changes)
    ]


def _spelled_out(text: str) -> str:
    """Lower case, "n't" as " not": "wasn't" reads "was not"."""
    return re.sub(r"n't\b", " not", text.lower())


def added_negation(question: str, sentence: str) -> list[tuple[str, str]]:
    """(word, "") for the question's "not", "never" or "no" when `sentence`, which restates
    the question, negates nothing, or holds the verb the question negates with no "not"
    before it: "What is not prevented from entering an organism?" of "physical barriers
    prevent pathogens from entering"; "Which entity did not develop the principles?" of
    "principles developed by the Court ... rules which are not expressly provided".

    >>> added_negation("What is not prevented from entering?", "Barriers prevent it entering.")
    [('not', '')]
    >>> added_negation("Who wasn't it a retaliation for?", "It was a retaliation for X.")
    [('not', '')]
    >>> added_negation("What is p if it is not 2?", "If p is a prime other than 2, it is odd.")
    []
    >>> added_negation("Who did not develop it?", "It was developed by X and is not written.")
    [('not', '')]
    >>> added_negation("Who did not develop it?", "It was not developed by X.")
    []
    >>> added_negation("What charges no tuition?", "It is not public; it charges tuition.")
    []
    """
    words = _WORD.findall(_spelled_out(question))
    said = [w for w in words if w in NEGATIONS]
    if not said:
        return []
    if not NEGATES.search(sentence):
        return [(said[0], "")]
    # The verb a "not" or "never" negates ("did not develop"); "no tuition" negates a thing.
    negated = next((w for w in words[words.index(said[0]) + 1 :] if terms(w)), "")
    if said[0] == "no" or "v" not in parts_of_speech(negated):
        return []
    there = _CLAUSE_WORD.findall(_spelled_out(sentence))
    at = [i for i, w in enumerate(there) if stem(w) == stem(negated)]
    # Each form of the verb with no "not" among the four words before it.
    if at and not any(NEGATES.search(" ".join(there[max(0, i - 4) : i])) for i in at):
        return [(said[0], "")]
    return []


_SAID_OF = frozenset(("v", "a"))  # a verb or adjective ("not more difficult than ...")


def dropped_negation(question: str, sentence: str) -> list[tuple[str, str]]:
    """(word, "not word") where the question, negating nothing, holds a verb or adjective that
    the closest sentence negates wherever it says it: "What do tumors express that are also
    found on normal cells?" of "... antigens that are not found on normal cells".

    >>> dropped_negation("What is found on normal cells?", "They are not found on normal cells.")
    [('found', 'not found')]
    >>> dropped_negation("What is found on tumor cells?", "Not found on A, it is found on B.")
    []
    >>> dropped_negation("What is not found on cells?", "They are not found on cells.")
    []
    >>> dropped_negation("Who could only propose some?", "It could not propose all, only some.")
    []
    >>> dropped_negation("How many officers cooperate?", "Officers do not cooperate.")
    []
    """
    asked = _WORD.findall(_spelled_out(question))
    there = _CLAUSE_WORD.findall(_spelled_out(sentence))
    # "could not propose what the level should be, only that there must be some": a sentence
    # of "not ..., only ..." says what the verb does hold of; "How many officers cooperate?"
    # of "officers do not cooperate" is answered "none".
    if any(w in NEGATIONS for w in asked) or "only" in there or asked_for(question) == "a number":
        return []
    verbs = {stem(w): w for w in asked if terms(w) and parts_of_speech(w) & _SAID_OF}
    out = []
    for key, word in verbs.items():
        at = [i for i, w in enumerate(there) if stem(w) == key]
        # "not" right before it or one word before ("not always found").
        if at and all(NEGATIONS & set(there[max(0, i - 2) : i]) for i in at):
            out.append((word, f"not {there[at[0]]}"))
    return out


def contrary_words(question: str, sentence: str, text: str) -> list[tuple[str, str]]:
    """(question's word, sentence's word) where a word of the question no passage holds is the
    contrary (lexicon.contrary) of a word of the closest sentence the question does not hold:
    "few signs" of "Numerous signs", "another mild drought" of "another severe drought", "Why
    did the operations succeed?" of "the operations all failed".

    >>> contrary_words("Where do few signs remain?", "Numerous signs remain there.", "")
    [('few', 'numerous')]
    >>> contrary_words("Where do many signs remain?", "Numerous signs remain there.", "")
    []
    >>> contrary_words("What charges no fee?", "Some charge a fee.", "")
    []
    >>> contrary_words("Why did the operations succeed?", "The operations failed.", "")
    [('succeed', 'failed')]
    """
    held = stems(text) | stems(sentence)
    asked = [w for w in terms(question) if stem(w) not in held and w not in NEGATIONS]
    mine = stems(question)
    said = [w for w in dict.fromkeys(_WORD.findall(sentence.lower())) if stem(w) not in mine]
    out = []
    for word in sorted(asked):
        other = next((w for w in said if _contrary(word, w)), None)
        if other:
            out.append((word, other))
    return out


def _contrary(word: str, other: str) -> bool:
    """WordNet's antonym, of any part of speech ("succeed" / "failed"); for two adjectives also
    one pointer from it. Not for verbs: their many senses put "go" one pointer from "failed"."""
    if _adjective(word) and _adjective(other):
        return contrary(word, other)
    return opposed(word, other)


def _adjective(word: str) -> bool:
    """An adjective, never a verb ("few", "severe"; not "last", "failed")."""
    parts = parts_of_speech(word)
    return "a" in parts and "v" not in parts


def other_thing(question: str, sentence: str, said: str, other: str) -> bool:
    """Whether the question puts one thing for another where it restates `sentence`: `said`
    and `other` are both things (WordNet nouns, not ordinals, not a name as written), neither
    may stand for the other, and `said` is not in `sentence` at all (taken from elsewhere).
    "What direction do cilia usually swim?" of "ctenophores usually swim in the direction ...".

    >>> s = "Hence ctenophores usually swim in the direction of the mouth."
    >>> other_thing("What direction do cilia usually swim?", s, "cilia", "ctenophores")
    True
    >>> other_thing("What direction do films usually show?", "Movies show it.", "films", "movies")
    False
    """
    words = (said, other)
    if any(" " in w or w in _ORDINALS or "n" not in parts_of_speech(w) for w in words):
        return False
    if not re.search(rf"\b{re.escape(said)}\b", question):
        return False  # written capitalised: a name, which a multi-hop question may bring
    # A word the sentence holds elsewhere is a paraphrase's ("the dollar and other ...
    # currencies" asked as "dollars").
    return stem(said) not in stems(sentence) and not akin(said, other)


def denying(question: str, text: str) -> list[str]:
    """The question's verbs that say "not" ("forbidden", "failed", "lack") of which `text`
    holds no form nor a word of the same sense.

    >>> denying("What are hospital medications forbidden from being?", "Most are unit-dose.")
    ['forbidden']
    >>> denying("What did it fail to do?", "It failed to pass.")
    []
    >>> denying("What is banned?", "Smoking is prohibited there.")
    []
    """
    words = _WORD.findall(question.lower())
    wanted = [w for w in dict.fromkeys(words) if stem(w) in _DENYING]
    if not wanted:
        return []
    said = set(_WORD.findall(text.lower()))
    held = {stem(w) for w in said}
    # A word of the same sense stands for it ("banned" of "prohibited"); a near one may be its
    # opposite ("forbidden" of "required"), which is what the check is after.
    return [
        w for w in wanted if stem(w) not in held and not any(synsets(w) & synsets(s) for s in said)
    ]


def missing_numbers(question: str, text: str) -> list[str]:
    """The question's years, amounts (100 and up) and ordinals that `text` does not hold: a
    smaller count is what a question asks for ("What three things ..."), or part of a name
    ("Big Hero 6"); a decade ("the 1950s", "the 70's") is held by any year in it.

    >>> missing_numbers("Who won in the 1950s, and what was 22nd in 1,200 races?", "In 1957 ...")
    ['22nd', '1,200']
    >>> missing_numbers("What three things did the 70's bring?", "In 1975 it ...")
    []
    >>> missing_numbers("Who was his 3rd son, in the 2003-2004 season?", "His third son, 2003-04.")
    []
    >>> missing_numbers("When was the third empire founded?", "The First Empire, the 2nd one.")
    ['third']
    """
    held = {m.group(1).replace(",", "") for m in _NUMBER.finditer(text)}
    held |= {f"{m.group(1)[:2]}{m.group(2)}" for m in _SPAN.finditer(text)}  # "2003-04"
    held |= {str(n) for w, n in _ORDINALS.items() if re.search(rf"\b{w}\b", text, re.I)}
    out = []
    for match in _NUMBER.finditer(question):
        digits, suffix = match.group(1).replace(",", ""), (match.group(2) or "").lower()
        if suffix in ("s", "'s"):
            decade = digits[:-1]  # "195" of the 1950s, "7" of the 70's
            if not any(h.startswith(decade) or h[-2:].startswith(decade) for h in held):
                out.append(match.group())
        elif (suffix or float(digits) >= 100) and digits not in held:
            out.append(match.group())
    # An ordinal in words too ("the third German empire" of passages that name a first), but
    # "first", which a question says of what its passages call the earliest or original.
    for word in re.findall(r"[a-z]+", question.lower()):
        if _ORDINALS.get(word, 1) > 1 and str(_ORDINALS[word]) not in held:
            out.append(word)
    return out + changed_months(question, text)


_MONTH = "|".join(m.capitalize() for m in MONTH_NAMES)  # a name's capital: "May", not "may"
_MONTH_YEAR = re.compile(rf"\b({_MONTH})\s+(?:\d{{1,2}}(?:st|nd|rd|th)?,?\s+)?(\d{{4}})\b")
_DAY_MONTH_YEAR = re.compile(rf"\b\d{{1,2}}\s+({_MONTH})\s+(\d{{4}})\b")


def changed_months(question: str, text: str) -> list[str]:
    """The question's "Month YYYY" where `text` gives that year only with other months: "as
    of February 2015" of passages that say "As of March 2015". A year the text gives with no
    month may be any month of it, so it is not read.

    >>> changed_months("Who ruled as of February 2015?", "As of March 2015, it ruled.")
    ['February 2015']
    >>> changed_months("Who ruled in February 2015?", "On 3 February 2015 and in March 2015.")
    []
    >>> changed_months("Who ruled in February 2015?", "In 2015 it ruled.")
    []
    """
    given = {
        (m.group(1), m.group(2))
        for pattern in (_MONTH_YEAR, _DAY_MONTH_YEAR)
        for m in pattern.finditer(text)
    }
    years = {year for _, year in given}
    return [
        f"{month} {year}"
        for month, year in dict.fromkeys(
            (m.group(1), m.group(2)) for m in _MONTH_YEAR.finditer(question)
        )
        if year in years and (month, year) not in given
    ]
