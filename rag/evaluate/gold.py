"""Gold sets: a gold JSONL file -> the questions of a run, unreadable lines reported."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from rag.errors import ConfigError
from rag.types import GoldQuestion, line_problem


@dataclass
class GoldSet:
    """The questions read from a gold file, and the lines that could not be read."""

    questions: list[GoldQuestion]
    skipped: list[str] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_gold(path: Path) -> GoldSet:
    """The gold questions of a JSONL file; unreadable lines and repeated ids are reported (as
    file:line: problem) and skipped, the rest kept."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text; save the gold set as UTF-8 JSONL") from exc
    out = GoldSet(questions=[])
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            question = GoldQuestion.model_validate_json(line)
        except ValidationError as exc:
            out.skipped.append(line_problem(f"{path}:{number}", exc))
            continue
        if question.id in seen:
            out.skipped.append(f"{path}:{number}: id {question.id!r} repeats an earlier line")
            continue
        seen.add(question.id)
        out.questions.append(question)
    if not out.questions:
        raise ConfigError(
            f"{path} has no readable gold question; each line needs "
            '{"id": "...", "question": "...", "answers": [...], "evidence": [...], '
            '"answerable": true}'
        )
    return out


def select(
    questions: list[GoldQuestion], limit: int | None, unanswerable: int | None
) -> list[GoldQuestion]:
    """The first `limit` questions in file order; with `unanswerable`, that many of them are
    unanswerable ones (the first in file order) and the rest answerable."""
    if unanswerable is None:
        return questions[:limit] if limit is not None else questions
    total = limit if limit is not None else len(questions)
    no = [q for q in questions if not q.answerable][:unanswerable]
    yes = [q for q in questions if q.answerable][: max(0, total - len(no))]
    chosen = {q.id for q in yes + no}
    return [q for q in questions if q.id in chosen]
