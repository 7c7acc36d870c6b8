"""The premise check: what a question takes for granted that its passages say otherwise."""

from __future__ import annotations

import pytest

from rag.validate.asked import asked_for, gives, pointing_opening
from rag.validate.premise import false_premises

PASSAGES = [
    "During the ice ages the Rhine took a left turn, creating the Channel River.",
    "In 2012 the Economist ranked Warsaw the 32nd most liveable city in the world.",
    "To view the encrypted content a VideoGuard receiver needs to be used.",
    "Complexity theory asks a more general question about all possible algorithms.",
    "The water broke through the arch, joining the easterly flow toward the Atlantic.",
    "Adaptive immunity depends on telling self from non-self.",
    "Kublai's third son ruled Tibet during the 1270s.",
    "Hence ctenophores usually swim in the direction in which the mouth is pointing. Their "
    "cilia beat in rows.",
    "Most hospital medications are unit-dose, or a single dose of medicine.",
    "William Rainey Harper became the university's first president in 1891. Both Harper and "
    "future president Robert Maynard Hutchins advocated a theoretical curriculum.",
    "The French composer Olivier Messiaen used prime numbers to create ametrical music.",
    "Studies suggest that temperatures and sea levels have been rising at the maximum rates.",
    "In 1640 Pierre de Fermat stated Fermat's little theorem (later proved by Leibniz and Euler).",
    "The Anglo-Norman language was eventually absorbed into the Anglo-Saxon language.",
    "Sky's most popular channel was overtaken in 2010.",
    "The Scottish Parliament's standing orders set down its committees.",
    "The First Empire held the Spanish throne.",
    "Numerous signs of Huguenot presence can still be seen in the towns they settled.",
    "The quick defeat of the Arab troops during the Six-Day War was a pivotal event.",
    "The principles of the law were developed by the Court, and are not written in treaties.",
    "The transformed cells of tumors express antigens that are not found on normal cells.",
    "British operations in 1755 and 1756 in the frontier areas all failed.",
    "As of March 2015, the Islamic State controlled territory of ten million people.",
    "The Aare provides much of the Rhine's discharge at the Dutch border.",
    "Specifically, members must be over 18 and must be citizens of the UK or EU citizens "
    "resident in the UK.",
    "Thus we see that squaring is not more difficult than multiplication.",
    "Parliament typically sits Tuesdays, Wednesdays and Thursdays from early January.",
]


@pytest.mark.parametrize(
    ("question", "named"),
    [
        # the question restates a sentence with one word turned round
        ("When the Rhine took a right turn what did it create?", "'right' where"),
        ("When the Rhine took a left turn what did it create?", ""),
        ("What asks a more specific question about all possible algorithms?", "'specific'"),
        ("What asks a more general question about all possible algorithms?", ""),
        ("What does a receiver need to view unencrypted content?", "'unencrypted'"),
        ("What does a receiver need to view encrypted content?", ""),
        ("Where did the water join the westward flow?", "'westward'"),
        ("What does not depend on telling self from non-self?", "'not'"),
        ("What doesn't depend on telling self from non-self?", "'not'"),
        # one thing put for another, taken from elsewhere; a word of the same sense is not
        ("What direction do cilia usually swim?", "'cilia' where"),
        ("What direction do ctenophores usually swim?", ""),
        # a verb that says "not", of which no passage says anything like it
        ("What form are most hospital medications forbidden from being?", "'forbidden'"),
        ("What form are most hospital medications prohibited from being?", "'prohibited'"),
        ("What form are most hospital medications in?", ""),
        # a year, amount or ordinal no passage holds; counts and decades are not premises
        ("When was Warsaw ranked the 22nd most liveable city?", "22nd"),
        ("When was Warsaw ranked the 32nd most liveable city?", ""),
        ("Who ranked Warsaw in 2014?", "2014"),
        ("What did Kublai's 3rd son rule in the 1270s?", ""),
        ("What three things did Kublai's third son rule in the 70's?", ""),
        # one person's first name put to another's last name
        ("In what year did Robert Harper become the first president?", "'Robert Harper'"),
        ("In what year did William Harper become the first president?", ""),
        # a word with a negating prefix, either way round; a change of direction in any form
        ("Which French composer used prime numbers for metrical music?", "'metrical' where"),
        ("Which French composer used prime numbers for ametrical music?", ""),
        ("What do studies suggest had been decreasing at the maximum rates?", "'decreasing'"),
        ("What do studies suggest had been rising at the maximum rates?", ""),
        # one name's thing given to another name
        ("Besides Leibniz, who proved Euler's little theorem?", '"Euler\'s little theorem"'),
        ("Besides Leibniz, who proved Fermat's little theorem?", ""),
        ("When was Sky UK Limited's most popular channel overtaken?", ""),
        ("What does the SP's standing orders set down?", ""),
        # what a sentence says of X asked as what does it to X
        ("What was absorbed into the Anglo-Norman language?", "turns that round"),
        ("What was the Anglo-Norman language absorbed into?", ""),
        ("What was absorbed into the Anglo-Saxon language?", ""),
        # an ordinal in words, but "first"
        ("When did the fifth empire hold the Spanish throne?", "fifth"),
        ("When did the first empire hold the Spanish throne?", ""),
        # an adjective the closest sentence says the contrary of
        ("In what city can few signs of Huguenot presence be seen?", "'few' where"),
        ("In what city can many signs of Huguenot presence be seen?", ""),
        # a hyphened word with its first part changed
        ("What was the defeat of the Arab troops during the Seven-Day War?", "'seven-day'"),
        ("What was the defeat of the Arab troops during the Six-Day War?", ""),
        # a "not" of a verb the closest sentence says without one, though it negates another
        ("Which entity did not develop the principles of the law?", "'not'"),
        ("Which entity developed the principles of the law?", ""),
        # a verb the closest sentence negates, asked as if it held; a verb turned into its antonym
        ("What do tumors express that are found on normal cells?", "'not found'"),
        ("What do tumors express that are not found on normal cells?", ""),
        ("Why did British operations in 1755 and 1756 in the frontier areas succeed?", "'succeed'"),
        ("Why did British operations in 1755 and 1756 in the frontier areas fail?", ""),
        # ... or an adjective it negates
        ("What is more difficult than multiplication?", "'not more'"),
        ("What is not more difficult than multiplication?", ""),
        # a yes/no question is answered "No" by the contrary, a count "none" by a "not"
        ("Did British operations in 1755 and 1756 in the frontier areas succeed?", ""),
        ("Are the antigens tumors express found on normal cells?", ""),
        ("How many antigens tumors express are found on normal cells?", ""),
        # a month of a year the passages give only with another month; a hyphened "non-"
        ("Whom did the Islamic State control as of February 2015?", "February 2015"),
        ("Whom did the Islamic State control as of March 2015?", ""),
        ("Whom did the non-Islamic State control as of March 2015?", "'non-islamic' where"),
        # a name put for another before the same word, the sentence not holding it
        ("How much of the Rhine's discharge is at the French border?", "'french' where"),
        ("How much of the Rhine's discharge is at the Dutch border?", ""),
        # ... or as the question's last word, after copied words
        ("What typically sits Tuesdays, Wednesdays, and Fridays?", "'fridays' where"),
        ("What typically sits Tuesdays, Wednesdays, and Thursdays?", ""),
        # a "not" the question adds, read on a sentence holding less of it (40%, not 60%)
        ("Which job does not require that the member be a citizen of the UK?", "'not'"),
        ("Which job does require that the member be a citizen of the UK?", ""),
        ("Which job does not require that the member have a job?", ""),
        # a name no passage found holds is not read: a multi-hop question names later hops
        ("Which river did Kublai's son cross before ruling Tibet?", ""),
    ],
)
def test_a_question_taking_for_granted_what_the_passages_do_not_say(
    question: str, named: str
) -> None:
    found = false_premises(question, PASSAGES)
    assert bool(found) is bool(named), found
    assert named in " ".join(found)


def test_a_question_no_sentence_restates_is_not_read_word_by_word() -> None:
    """A multi-hop question's closest sentence is about one of its hops: its words are not
    held against that sentence."""
    question = "When was the last time the Olympics were held in the country that sells the vodka?"
    passages = ["This was the first time that Korea had hosted the Winter Olympics in 2018."]
    assert false_premises(question, passages) == []


@pytest.mark.parametrize(
    ("question", "answer", "given"),
    [
        ("How many Huguenots were in France?", "Most are concentrated in Alsace.", False),
        ("How many Huguenots were in France?", "About 2 million lived there.", True),
        ("In what year was the fort built?", "It was built in 1555.", True),
        ("In what year was the fort built?", "It was built in the spring.", False),
        ("When did the oil crisis begin?", "It began when they declared an embargo.", True),
        # a digit inside a formula or code gives no number nor time
        ("When will the greenhouse effect reach alarming levels?", "CO2 caused half of it.", False),
        ("How many ships sank?", "Twelve ships sank in the storm.", True),
        ("When they trade, whose wages rise?", "Wages of the skilled rise.", True),  # asks who
        # a named measure asks for a number
        ("What is the population of the state with the airport?", "It serves Dodge City.", False),
        ("What is the population of the state?", "It had 2,913,123 people in 2015.", True),
        ("What percentage of voters failed to vote?", "Turnout was 67.1 percent.", True),
        ("What percentage of voters failed to vote?", "Voters stayed at home.", False),
        ("Which area of the continent saw the Renaissance begin?", "It began in Italy.", True),
    ],
)
def test_the_asked_kind_and_whether_an_answer_gives_it(
    question: str, answer: str, given: bool
) -> None:
    assert gives(asked_for(question), answer) is given


@pytest.mark.parametrize(
    ("answer", "word"),
    [
        # seen in SQuAD runs: each a true sentence whose subject is in the passage before it
        ("It was founded by former ARPA IPTO director Larry Roberts.", "It"),
        ("This caused an uproar among the Chinese.", "This"),
        ("They also plot and combine measurements of geological structures.", "They"),
        ("This is achieved through co-operative relationships.", "This"),
        ("The other three are in a residential neighborhood.", "The other"),
        # names what it is about
        ("Telenet was founded by Larry Roberts.", ""),
        ("Items of this kind are rare.", ""),
        ("The others' names are lost.", ""),
        # a demonstrative before its noun, a possessive: the noun says what it is about
        ("**These crops** were introduced during the Yuan dynasty.", ""),
        ("His calendar was disseminated in 1281 as the official calendar.", ""),
        ("Its capital is Oslo.", ""),
        ("Theodore Roosevelt won.", ""),  # "The..." opens a name, not a pointing word
        ("They Flew Alone is a 1942 British biopic.", ""),  # a title
        # an "it" that points to nothing: a cleft or "it is known that"
        ("It was only the orbit of Mercury that the law did not explain.", ""),
        ("It is estimated that 400 people died.", ""),
    ],
)
def test_an_answer_opening_with_a_word_that_points_outside_it(answer: str, word: str) -> None:
    assert pointing_opening(answer) == word
