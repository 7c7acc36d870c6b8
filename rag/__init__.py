"""rag: cited answers over your own sources."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.types import Answer

__version__ = "0.1.0"


def ask(question: str, **kwargs: Any) -> Answer:
    """Answer `question` from the index with numbered citations; see `rag.answer.answerer.ask`."""
    from rag.answer.answerer import ask as _ask

    return _ask(question, **kwargs)


__all__ = ["__version__", "ask"]
