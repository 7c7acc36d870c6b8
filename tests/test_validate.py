"""The validator: every fault kind rejected by the layer meant to catch it, good forms accepted,
the judge consulted only where the fast layer is unsure, and `rag validate` on files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers.fakes import FakeChatModel, HashEmbedder

from rag.cli.app import cli
from rag.cli.common import Runtime
from rag.config import Settings, load_settings
from rag.llm.model import yes_probability
from rag.text import cited_text
from rag.types import SentenceCheck, Verdict
from rag.validate.claims import split_claims
from rag.validate.judge import Judge
from rag.validate.support import measure
from rag.validate.validator import CheckRun, Validator
from rag.validate.wording import dropped_qualifiers, names, numbers

PASSAGES = {
    1: "The Stone Bridge was built in 1890 by the Harlow Company. It has three arches and is "
    "not open to cars. Repairs in 2004 cost about 2 million dollars.",
    2: "The Avon River floods most springs. Farmers in Millbrook grow barley on its banks.",
    3: "Kestrel Harbor handled 40 ships in 1950 according to port records.",
}


@pytest.fixture
def validator(settings: Settings) -> Validator:
    return Validator(settings.validator, HashEmbedder(dimension=256))


@pytest.mark.parametrize(
    ("answer", "problem", "layer"),
    [
        # cited to the wrong passage
        ("The Stone Bridge was built in 1890 by the Harlow Company [2].", "number", "fast"),
        ("Farmers in Millbrook grow barley on the river banks [3].", "unsupported", "fast"),
        # a number that was not among the passages
        (
            "The Stone Bridge was built in 1890 by the Harlow Company [4].",
            "out_of_range",
            "structure",
        ),
        ("The Avon River floods most springs [1-5].", "out_of_range", "structure"),
        # a factual sentence with no citation
        ("The Stone Bridge was built in 1890 by the Harlow Company.", "uncited", "structure"),
        # a quote that is not in the passage
        ('The bridge is "closed to every vehicle" [1].', "quote", "structure"),
        # a number or a name changed
        ("The Stone Bridge was built in 1895 by the Harlow Company [1].", "number", "fast"),
        ("The Stone Bridge was built in 1890 by the Kestrel Company [1].", "unsupported", "fast"),
        # a claim grafted from another passage
        (
            "Kestrel Harbor handled 40 ships in 1950 according to port records [1].",
            "number",
            "fast",
        ),
        ("Farmers in Millbrook grow barley on its banks [1].", "unsupported", "fast"),
        # a paraphrase that drops a qualifier
        ("The Stone Bridge has three arches and is open to cars [1].", "unsupported", "fast"),
        ("Repairs in 2004 cost 2 million dollars [1].", "unsupported", "fast"),
    ],
)
def test_fault_is_rejected(validator: Validator, answer: str, problem: str, layer: str) -> None:
    verdict = validator.check(answer, PASSAGES)
    assert not verdict.accepted
    (check,) = verdict.sentences
    assert (check.supported, check.problem, check.layer) == (False, problem, layer)
    assert verdict.problems and verdict.problems[0].startswith("sentence 1: ")


@pytest.mark.parametrize(
    "answer",
    [
        # verbatim and several citations, in every marker form
        "The Avon River floods most springs [2].",
        "The Stone Bridge was built in 1890 [1]. The Avon River floods most springs [2, 1].",
        "The bridge was built in 1890 [1][3]. Kestrel Harbor handled 40 ships in 1950 [3].",
        "Kestrel Harbor handled 40 ships in 1950 [1-3].",
        # a paraphrase, and a number written as a word
        "The Harlow Company built the Stone Bridge in 1890 [1].",
        "The Stone Bridge has 3 arches and is not open to cars [1].",
        "Kestrel Harbor handled forty ships in 1950 [3].",
        # a quote that is in the passage; marker after the full stop
        'The bridge "is not open to cars" [1].',
        "The Avon River floods most springs. [2]",
        # headings, connectives, follow-ups and limits need no citation
        "## Summary\nYes. The Avon River floods most springs [2].\n## Bottom line\nIn short:\n"
        "Farmers in Millbrook grow barley [2].\n## What the sources cannot settle\n"
        "Whether the bridge will reopen.\n## Follow-up questions\n- Who repairs the bridge?",
    ],
)
def test_good_answer_is_accepted(validator: Validator, answer: str) -> None:
    verdict = validator.check(answer, PASSAGES)
    assert verdict.accepted, verdict.problems
    assert all(c.supported and c.problem == "" for c in verdict.sentences)


# Passages as a citation vouches for them: under their source's title (rag.text.cited_text).
TITLED = {
    1: cited_text(
        "Harbor Lights (film)", "The film was shot in Kestrel in 1950. It won two awards."
    ),
    2: cited_text(
        "Avon line",
        "The blue line runs southeast to the airport. Its motto, ad astra per aspera, is Latin.",
    ),
    3: cited_text(
        "Stone Bridge",
        "The Stone Bridge has three arches. Designed by Ann Lee, it was built in 1890 by the "
        "Harlow Company. It was repaired in 2004. Access costs a fee, from £15\u2013100,000.",
    ),
    4: cited_text("Huguenots", "French Huguenots founded the outpost of Charlesfort in 1562."),
    5: cited_text(
        "Gold Song",
        "The song was written by Ann Lee and Bo Park in 1971. Where the label agreed, the song "
        "was sold abroad. Its publisher Gold Records has Bo Park as editor.",
    ),
    6: cited_text("Sky channels", "Viewers need a VideoGuard receiver to view encrypted content."),
    7: cited_text(
        "Town census",
        "For every 100 females age 18 and over, there were 91.3 males. Palash Sen is the "
        "founder of the band Euphoria. Some of the heat is lost and the waste heat is removed "
        "in a condenser.",
    ),
    8: cited_text(
        "Key exchange",
        "Public-key algorithms such as RSA and the Diffie-Hellman key exchange rest on large "
        "primes. Multiplying two numbers is easy.",
    ),
    9: cited_text(
        "University of Chicago",
        "William Rainey Harper became the university's first president in 1891. Both Harper and "
        "future president Robert Maynard Hutchins advocated a theoretical curriculum.",
    ),
    10: cited_text(
        "Arab world",
        "The defeat of the Arab troops during the Six-Day War was a pivotal event. The Seven "
        "Years' War was fought in Europe.",
    ),
    11: cited_text(
        "Steam engine",
        "Piston steam engines ruled until 1900. The weight of boilers makes the power-to-weight "
        "ratio of a steam plant lower than for internal combustion engines.",
    ),
    12: cited_text(
        "Schools in Nepal",
        "Many of the schools have the name Public School appended to them, such as the Galaxy "
        "Public School in Kathmandu, though they are private schools.",
    ),
    13: cited_text(
        "Watertown International Airport",
        "Watertown International Airport is a public use airport located in Jefferson County, "
        "New York, United States. It lies five nautical miles west of Watertown.",
    ),
}


@pytest.mark.parametrize(
    ("answer", "accepted"),
    [
        # a name the passage leaves to its title ("the film")
        ("Harbor Lights was shot in Kestrel in 1950 [1].", True),
        ("Harbor Lights was shot in Millbrook in 1950 [1].", False),
        # capitalised ordinary words are words: "Blue" is in "blue", "Southeast" in "southeast"
        ("The Blue line runs Southeast to the airport [2].", True),
        ("The Red line runs southeast to the airport [2].", False),
        # a foreign phrase, in the passage or not
        ("Its motto is Ad Astra per Aspera [2].", True),
        ("Its motto is Fiat Lux [2].", False),
        # a number a clause or a sentence away from the claim's other words
        ("The Stone Bridge, built in 1890, has three arches [3].", True),
        ("The fee to access the Stone Bridge is £15\u2013100,000 [3].", True),
        ("The Harlow Company built the Stone Bridge in 2004 [3].", False),
        # a label that lists the claim is no number of it
        ("Fact 1: The Stone Bridge, built in 1890, has three arches [3].", True),
        ("Fact 2: The Stone Bridge, built in 1895, has three arches [3].", False),
        # a name in another number
        ("The Huguenot outpost was Charlesfort [4].", True),
        # a paraphrase, and a relation changed between the same names
        ("Ann Lee and Bo Park wrote the song in 1971 [5].", True),
        ("The song was sung by Ann Lee and Bo Park in 1971 [5].", False),
        # a role said of a name in a sentence that shares fewer words than another
        ("Bo Park was the president of Gold Records, the publisher of the song [5].", False),
        # a condition of the passage asserted as a fact
        ("The label agreed to sell the song abroad [5].", False),
        ("Where the label agreed, the song was sold abroad [5].", True),
        # a word turned into its opposite by a prefix
        ("Viewers need a VideoGuard receiver to view unencrypted content [6].", False),
        ("Viewers need a VideoGuard receiver to view encrypted content [6].", True),
        # a qualifier bears on its own clause, and on its own mention of a word
        ("There were 91.3 males for every 100 females age 18 and over [7].", True),
        ("The waste heat is removed in a condenser [7].", True),
        # the noun of a verb, and "one of" is no count
        ("Palash Sen founded the band Euphoria [7].", True),
        ("The band Euphoria was founded by one of the town's men, Palash Sen [7].", True),
        # a count of what the claim itself lists, not the passage's "two" elsewhere
        ("RSA and the Diffie-Hellman key exchange are two public-key algorithms [8].", True),
        ("RSA and the Diffie-Hellman key exchange are three public-key algorithms [8].", False),
        # a first name of one person put to another's last name, each word in the passage
        ("Robert Harper became the university's first president in 1891 [9].", False),
        ("William Harper became the university's first president in 1891 [9].", True),
        ("Harper became the university's first president in 1891 [9].", True),
        # a hyphened word with its first part changed, the number held by another war
        ("The defeat of the Arab troops during the Seven-Day War was a pivotal event [10].", False),
        ("The defeat of the Arab troops during the Six-Day War was a pivotal event [10].", True),
        # a comparison held against another thing, every word in the passage
        (
            "The power-to-weight ratio of a steam plant is lower than that of a steam engine [11].",
            False,
        ),
        (
            "The power-to-weight ratio of a steam plant is lower than for combustion engines [11].",
            True,
        ),
        # a clause of the claim's own the cited text does not hold, beside one it does
        (
            "Many of the schools have the name Public School appended to them, such as the Galaxy "
            "Public School in Kathmandu, which is a common practice everywhere [12].",
            False,
        ),
        (
            "When the committee reached a decision, many of the schools have the name Public "
            "School appended to them, such as the Galaxy Public School in Kathmandu [12].",
            False,
        ),
        (
            "Many of the schools have the name Public School appended to them, as the sources "
            "say, such as the Galaxy Public School in Kathmandu [12].",
            True,
        ),
        # a name opening the claim, capitalised by position, is a name where English knows it
        # only as one: another airport's name put to this one's county
        ("Alexandria International Airport is located in Jefferson County, New York [13].", False),
        ("Watertown International Airport is located in Jefferson County, New York [13].", True),
    ],
)
def test_patterns_seen_on_unseen_data(validator: Validator, answer: str, accepted: bool) -> None:
    verdict = validator.check(answer, TITLED)
    assert verdict.accepted is accepted, verdict.problems


@pytest.mark.parametrize(
    ("claim", "unmatched"),
    [
        ("The sources say that Doc Films is the oldest film society.", []),
        ("Fact 1: Doc Films is the oldest film society.", []),
        ("Doc Films is the name of the oldest film society.", []),
        ("Doc Films was the title of the oldest film society.", []),
        ("Doc Films named the oldest film society.", ["named"]),
        # a closing that points at the passage, as measure gets it (markers taken off)
        ("Doc Films is the oldest film society, as mentioned in passage.", []),
        ("As stated in the passages, Doc Films is the oldest film society.", []),
        (
            "Doc Films is the oldest film society mentioned in the passage.",
            ["mentioned", "passage"],
        ),
    ],
)
def test_words_of_the_claims_own_framing_need_no_passage(claim: str, unmatched: list[str]) -> None:
    passage = "Among its clubs is the oldest film society, Doc Films."
    assert measure(claim, [passage]).unmatched == unmatched


# A passage whose sentences the model copies with one fact changed.
COPIED = {
    8: cited_text(
        "Ctenophores and others",
        "Hence ctenophores usually swim in the direction in which the mouth is pointing. Their "
        "cilia beat in rows. Zia Lee is a keyboard player and member of the band Dandy. She "
        "also plays bass. On 15 December the Sheriff's Office received a call from the agency "
        "saying that agents were being attacked. Where the laws of member states provide for "
        "lesser rights the law can be enforced by the courts of member states. The legislature "
        "of the Union is principally composed of the Parliament and the Council. Kenji Imada "
        "(born 17 January 1969) is a former wrestler from Hiroshima. The word pharma was a "
        "term used since the 15th\u201317th centuries. The digital service was launched in "
        "1998 under the name Sky View. Sales grew. Its interactive service, Sky Open, was "
        "launched later.",
    )
}


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        # a word taken from elsewhere in the passage put in the sentence's subject's place
        ("Cilia usually swim in the direction in which the mouth is pointing [8].", "cilia"),
        ("Ctenophores usually swim in the direction in which the mouth is pointing [8].", ""),
        # "he" of a passage that says "she"
        ("He is a member of the band Dandy [8].", "'he'"),
        ("She is a member of the band Dandy [8].", ""),
        # a role turned round: the office "received" the call
        ("The Sheriff's Office made a call saying that agents were being attacked [8].", "made"),
        ("On 15 December the Sheriff's Office received a call from the agency [8].", ""),
        # a condition opening the sentence, with no comma to close it
        ("The laws of member states provide for lesser rights [8].", "where"),
        ("The law can be enforced by the courts of member states [8].", ""),
        # someone else said to do what the sentence says was done by others
        ("The national courts can enforce the law [8].", "national courts"),
        # the head of the subject left out: "the legislature of the Union" made "the Union"
        ("The Union is principally composed of the Parliament and the Council [8].", "legislature"),
        ("The legislature of the Union is composed of the Parliament and the Council [8].", ""),
        # "born in" a place the passage only says he is from
        ("Kenji Imada was born in Hiroshima [8].", "born in Hiroshima"),
        ("Kenji Imada is a former wrestler from Hiroshima [8].", ""),
        # a "last" the passage does not say
        ("The term pharma was last used in the 17th century [8].", "last"),
        # one kind of a thing put for another the passage tells apart ("interactive service")
        (
            "The interactive service was launched in 1998 under the name Sky View [8].",
            "interactive",
        ),
        ("The digital service was launched in 1998 under the name Sky View [8].", ""),
    ],
)
def test_a_fact_changed_in_a_copied_sentence(validator: Validator, answer: str, named: str) -> None:
    verdict = validator.check(answer, COPIED)
    assert verdict.accepted is (named == ""), verdict.problems
    assert named in " ".join(verdict.problems)


# Two passages, each on someone else; a sentence naming a formula; a passage that negates
# nothing, and one that does.
JOINED = {
    9: cited_text("Géza von Cziffra", "Géza von Cziffra was an Austrian film director."),
    10: cited_text("King Vidor", "King Vidor was an American film director."),
    11: cited_text("Oxygen", "The common allotrope of oxygen on Earth is called dioxygen, O2."),
    12: cited_text(
        "Lower bounds",
        "Proving lower bounds is hard, since they speak of all possible algorithms that solve a "
        "given problem. An upper bound needs only one algorithm.",
    ),
    13: cited_text("Bureau", "The bureau said it had not been given the evidence it needed."),
    # two films' passages that name one star in common
    14: cited_text(
        "The Jewel of the Nile",
        "The Jewel of the Nile is a 1985 film directed by Lewis Teague and produced by one of "
        "its stars, Michael Douglas.",
    ),
    15: cited_text(
        "Last Vegas",
        "Last Vegas is a 2013 film starring Michael Douglas, Robert De Niro and Morgan Freeman.",
    ),
}


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        # each passage holds part of the claim, and nothing of it ties them
        ("Géza von Cziffra is American [9][10].", "share none of its words"),
        ("Géza von Cziffra and King Vidor were both film directors [9][10].", ""),
        ("King Vidor was an American film director [10].", ""),
        # a clause ties a name of one passage to a name of the other, which no passage joins
        (
            'Robert De Niro starred in "The Jewel of the Nile", which was directed by Lewis '
            "Teague and produced by Michael Douglas [14][15].",
            "joins 'Robert De Niro' and 'The Jewel of the Nile'",
        ),
        (
            "The Jewel of the Nile was produced by Michael Douglas, who starred in Last Vegas "
            "with Robert De Niro [14][15].",
            "",
        ),
        ("The Jewel of the Nile and Last Vegas both star Michael Douglas [14][15].", ""),
        # letters and digits make a name, even as a sentence's first word
        ("Fe2O is the common allotrope of oxygen on Earth [11].", "Fe2O"),
        ("O2 is the common allotrope of oxygen on Earth [11].", ""),
        # a "not" put among the words of a sentence that negates nothing
        (
            "Lower bounds speak of all algorithms that could not solve a given problem [12].",
            "adds 'not'",
        ),
        ("Lower bounds speak of all possible algorithms that solve a given problem [12].", ""),
        ("The bureau withdrew because it did not have the evidence it needed [13].", ""),
    ],
)
def test_a_claim_joined_from_passages_a_coded_name_or_an_unsaid_not(
    validator: Validator, answer: str, named: str
) -> None:
    verdict = validator.check(answer, JOINED)
    assert verdict.accepted is (named == ""), verdict.problems
    assert named in " ".join(verdict.problems)


def test_no_claims_is_not_an_answer(validator: Validator) -> None:
    verdict = validator.check("The sources do not answer this question.", PASSAGES)
    assert verdict.accepted and verdict.sentences == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "## Summary\nNo. The bridge is old [1].",
            [("No.", False), ("The bridge is old [1].", True)],
        ),
        (
            "The river floods each spring. [2] Farmers there grow barley [2].",
            [
                ("The river floods each spring. [2]", True),
                ("Farmers there grow barley [2].", True),
            ],
        ),
        ("Here is what the sources say:", [("Here is what the sources say:", False)]),
        ("## Follow-up questions\n- Why did it close?", [("Why did it close?", False)]),
        (  # a cited stop ends the sentence though the next opens with a lower-case title
            "It was released in August 1992 [2]. squad-0214 The city grew [3].",
            [
                ("It was released in August 1992 [2].", True),
                ("squad-0214 The city grew [3].", True),
            ],
        ),
        (  # a list run onto one line: each item is a sentence, a dash inside one is not
            "Packets were routed by Baran. - Davies named it packet switching [1]. - It "
            "spread from 1969 \u2013 1975 [2].",
            [
                ("Packets were routed by Baran.", True),
                ("Davies named it packet switching [1].", True),
                ("It spread from 1969 \u2013 1975 [2].", True),
            ],
        ),
    ],
)
def test_split_claims(text: str, expected: list[tuple[str, bool]]) -> None:
    assert [(c.text, c.needs_citation) for c in split_claims(text)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It cost 1,200 dollars in 2004.", {"1200", "2004"}),
        ("three arches and twenty ships", {"3", "20"}),
        ("version 2.5 of 10", {"2.5", "10"}),
    ],
)
def test_numbers(text: str, expected: set[str]) -> None:
    assert numbers(text) == expected


def test_names_skip_the_first_word() -> None:
    assert names("Farmers in Millbrook met the NATO envoy. The Avon floods.") == {
        "Millbrook",
        "NATO",
        "Avon",
    }


@pytest.mark.parametrize(
    ("claim", "cited", "dropped"),
    [
        ("It is open to cars.", "It is not open to cars.", ["not"]),
        ("It is not open to cars.", "It is not open to cars.", []),
        # the qualifier bears on a word the claim does not keep
        ("The city runs the buses.", "The city, not the county, runs the buses.", []),
        ("Repairs cost 2 million.", "Repairs cost about 2 million.", ["about"]),
    ],
)
def test_dropped_qualifiers(claim: str, cited: str, dropped: list[str]) -> None:
    assert dropped_qualifiers(claim, cited) == dropped


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        ([("Yes", -0.1), (" Yes", -2.0), ("No", -3.0)], 0.9543),
        ([("No", -0.05), ("yes", -3.0)], 0.0497),
        ([("The", -0.1)], None),
    ],
)
def test_yes_probability_merges_spellings(
    top: list[tuple[str, float]], expected: float | None
) -> None:
    got = yes_probability(top)
    assert (round(got, 4) if got is not None else None) == expected


def test_judge_only_where_the_fast_layer_is_unsure(tmp_path: Path) -> None:
    asked: list[tuple[str, str]] = []

    def judge(claim: str, text: str) -> float:
        asked.append((claim, text))
        return 0.9

    settings = load_settings(index_dir=tmp_path, support_reject=0.0, support_accept=1.0)
    validator = Validator(settings.validator, HashEmbedder(dimension=256), judge=judge)
    answer = (
        "The Avon River floods most springs [2]. "  # verbatim: settled without the judge
        "The bridge carries no cars across the Avon [1]. "  # a name not in [1]: rejected, no judge
        "The Harlow Company built the bridge long ago [1]."  # unsure: the judge decides
    )
    run = CheckRun()
    verdict = validator.check(answer, PASSAGES, run)
    assert [c.layer for c in verdict.sentences] == ["fast", "fast", "judge"]
    assert [c.supported for c in verdict.sentences] == [True, False, True]
    assert run.judge_calls == 1 and asked[0][0].startswith("The Harlow Company")
    assert asked[0][1].startswith("[1] The Stone Bridge")
    # The shown answer is renumbered: the judge must read the same prompt whatever the number.
    validator.check("The Harlow Company built the bridge long ago [3].", {3: PASSAGES[1]})
    assert asked[1] == asked[0]


def test_the_judge_asks_its_model_with_the_judge_prompt() -> None:
    model = FakeChatModel([], yes=[0.8, 0.1])
    judge = Judge(model)
    assert (judge("The bridge is old.", "[1] The bridge is old."), judge("x", "y")) == (0.8, 0.1)
    system, user = model.requests[0]
    assert "The bridge is old." in user["content"] and system["role"] == "system"


def test_validate_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_VALIDATE_MODE", "fast")
    passages = [{"n": n, "text": t, "title": f"T{n}"} for n, t in PASSAGES.items()]
    lines = [
        {"answer": "The Avon River floods most springs [2].", "passages": passages, "label": "x"},
        {"answer": "The Avon River floods most springs [7].", "passages": passages},
        {"passages": passages},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    given = Runtime(embedder=HashEmbedder(dimension=256))
    result = CliRunner().invoke(cli, ["validate", str(path), "--json"], obj=given)
    assert result.exit_code == 5  # an answer was rejected (and one line could not be read)
    out = [json.loads(line) for line in result.stdout.splitlines()]
    errors = [o for o in out if "error" in o]
    verdicts = [o for o in out if "accepted" in o]
    assert [v["accepted"] for v in verdicts] == [True, False]
    assert verdicts[1]["sentences"][0]["problem"] == "out_of_range"
    assert set(verdicts[0]) == {"accepted", "problems", "sentences"}
    error = errors[0]["error"]
    assert error["code"] == "bad_line"
    assert "in.jsonl:3" in error["message"] and "answer" in error["message"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A lead-in left with nothing after it goes; one still followed by its sentence stays.
        ("## Summary\nA holds [1].\nProblems found:\n", "## Summary\nA holds [1].\n"),
        (
            "## Summary\nIn detail:\nB fails [2].\n## Bottom line\nA holds [1].\n",
            "## Summary\n## Bottom line\nA holds [1].\n",
        ),
        ("## Summary\nIn short:\nA holds [1].\n", "## Summary\nIn short:\nA holds [1].\n"),
    ],
)
def test_cut_down_drops_failed_sentences_and_dangling_lead_ins(text: str, expected: str) -> None:
    from rag.answer.policy import cut_down

    verdict = Verdict(
        accepted=False,
        sentences=[
            SentenceCheck(
                text="A holds [1].", citations=[1], supported=True, score=1, layer="fast"
            ),
            SentenceCheck(
                text="B fails [2].", citations=[2], supported=False, score=0, layer="fast"
            ),
        ],
    )
    assert cut_down(text, verdict) == expected


@pytest.mark.parametrize(
    ("answers", "code"),
    [
        (["The Avon River floods most springs [2]."], 0),
        (["The Avon River floods most springs [2].", None], 3),  # None: a line not JSON
        (["The Avon River floods most springs [7]."], 5),
    ],
)
def test_validate_exit_code_tells_scripts_what_it_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answers: list[str | None], code: int
) -> None:
    monkeypatch.setenv("RAG_VALIDATE_MODE", "fast")
    passages = [{"n": n, "text": t} for n, t in PASSAGES.items()]
    lines = [json.dumps({"answer": a, "passages": passages}) if a else "{oops" for a in answers]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    given = Runtime(embedder=HashEmbedder(dimension=256))
    assert CliRunner().invoke(cli, ["validate", str(path)], obj=given).exit_code == code
