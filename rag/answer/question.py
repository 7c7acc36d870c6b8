"""Question: what a user typed -> the text that is searched and put in the prompt."""

from __future__ import annotations

import unicodedata

from rag.errors import QuestionError
from rag.text import strip_controls


def clean_question(question: str, max_chars: int) -> str:
    """NFC, control characters out, whitespace collapsed; empty or overlong is refused."""
    text = " ".join(strip_controls(unicodedata.normalize("NFC", question)).split())
    if not text:
        raise QuestionError("empty_question", "the question is empty; type what you want to know")
    if len(text) > max_chars:
        raise QuestionError(
            "question_too_long",
            f"the question has {len(text)} characters; the limit is {max_chars} "
            "(RAG_MAX_QUESTION_CHARS)",
        )
    return text
