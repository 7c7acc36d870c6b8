"""The answer shape: parsed from what models really write, rendered canonically."""

from __future__ import annotations

import pytest

from rag.answer.shape import parse_answer, render_answer
from rag.types import AnswerSections, Section

WELL_FORMED = """## Summary
No, police do not help [1].
## 1. Policy
The ordinance bars it [2].
## 2. <Practice>
Officers left [3].
## Bottom line
Not as policy [1].
## What the sources cannot settle
Whether every officer complied.
## Follow-up questions
- What did the audit find?
- Who sued?
"""


def test_well_formed_answer() -> None:
    parts = parse_answer(WELL_FORMED)
    assert parts.summary == "No, police do not help [1]."
    assert [(s.heading, s.text) for s in parts.sections] == [
        ("Policy", "The ordinance bars it [2]."),
        ("Practice", "Officers left [3]."),
    ]
    assert parts.bottom_line == "Not as policy [1]."
    assert parts.limits == "Whether every officer complied."
    assert parts.follow_ups == ["What did the audit find?", "Who sued?"]


@pytest.mark.parametrize(
    ("raw", "summary", "sections", "bottom", "follow_ups"),
    [
        ("Just an answer [1].\n\nMore [2].", "Just an answer [1].\n\nMore [2].", [], "", []),
        ("**Summary:** Yes [1].\n**Bottom line**: Mostly [2].", "Yes [1].", [], "Mostly [2].", []),
        ("# Executive summary\nYes [1].\n### Details\nWhy [2].", "Yes [1].", ["Details"], "", []),
        ("## Policy\nBars it [1].\n## Conclusion\nNo [1].", "Bars it [1].", [], "No [1].", []),
        ("## Want to dive deeper?\n1. Who?\n2) Why?\nnot a question", "", [], "", ["Who?", "Why?"]),
        ("Intro [1].\n## Summary\nYes [1].", "Yes [1].", ["Details"], "", []),
        ("", "", [], "", []),
    ],
)
def test_malformed_answers_still_parse(
    raw: str, summary: str, sections: list[str], bottom: str, follow_ups: list[str]
) -> None:
    parts = parse_answer(raw)
    assert parts.summary == summary
    assert [s.heading for s in parts.sections] == sections
    assert parts.bottom_line == bottom
    assert parts.follow_ups == follow_ups


def test_render_then_parse_round_trips() -> None:
    parts = AnswerSections(
        summary="Yes [1].",
        sections=[Section(heading="One", text="A [1]."), Section(heading="Two", text="B [2].")],
        bottom_line="So [1].",
        limits="Dates.",
        follow_ups=["Why?"],
    )
    text = render_answer(parts, checked_on="2026-11-21")
    assert "## 2. Two" in text and text.rstrip().endswith("_Checked on 2026-11-21._")
    reparsed = parse_answer(text.replace("_Checked on 2026-11-21._", ""))
    assert reparsed == parts
