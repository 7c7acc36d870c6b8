"""The README stays true: its two set-up commands are the ones CI runs; docs/using.md lists every
setting."""

from __future__ import annotations

import re
from pathlib import Path

from rag.config import FLAT

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_ci_runs_exactly_the_readme_test_command() -> None:
    blocks = re.findall(r"```bash\n(.*?)\n```", README, re.DOTALL)
    test_command = next(b for b in blocks if "pytest" in b)
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == test_command


def test_every_setting_is_documented() -> None:
    using = (REPO / "docs" / "using.md").read_text(encoding="utf-8")
    for name in FLAT:
        assert f"`RAG_{name.upper()}`" in using, f"RAG_{name.upper()} is missing from docs/using.md"
