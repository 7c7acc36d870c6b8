"""The tree shows the flow: a subpackage per stage, layers that import only downward (checked by
import-linter, which must also fail when they do not), small modules, the README's layout
section true to the tree, and no file that names the round of work it came from."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "rag"
MAX_LINES = 400
MAX_TOP_LEVEL = 10


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter on the `rag` found first on the path from `root`, with its contracts."""
    return subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def modules(folder: Path) -> list[str]:
    """The modules and subpackages directly in `folder`."""
    found = [p.stem for p in folder.glob("*.py")]
    found += [p.name for p in folder.iterdir() if (p / "__init__.py").is_file()]
    return sorted(found)


def test_the_layers_are_kept() -> None:
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "added", "broken"),
    [
        ("store/layout.py", "import rag.cli.app", "rag.store.layout -> rag.cli.app"),
        ("validate/claims.py", "import rag.answer.shape", "rag.validate.claims -> rag.answer"),
        ("store/layout.py", "import rag.store.reader", ".layout -> .reader"),
    ],
)
def test_import_linter_refuses_an_upward_import_or_a_cycle(
    tmp_path: Path, module: str, added: str, broken: str
) -> None:
    shutil.copytree(PACKAGE, tmp_path / "rag", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    with (tmp_path / "rag" / module).open("a", encoding="utf-8") as fh:
        fh.write(f"\n{added}  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0 and "BROKEN" in result.stdout
    assert broken in result.stdout, result.stdout


def test_few_top_level_modules_and_none_too_long() -> None:
    top = [m for m in modules(PACKAGE) if (PACKAGE / f"{m}.py").is_file()]
    assert len(top) <= MAX_TOP_LEVEL, top
    long = {
        str(p.relative_to(REPO)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_readme_layout_names_every_module() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```\n(.*?)\n```", section, re.DOTALL)
    assert block, "the README's Layout section has a code block"
    lines = {
        m.group(1): m.group(2)
        for m in re.finditer(r"^  (\w+(?:/|\.py))\s+(.*)$", block.group(1), re.MULTILINE)
    }
    listed = sorted(name.removesuffix("/").removesuffix(".py") for name in lines)
    assert listed == modules(PACKAGE)
    for name, text in lines.items():
        if name.endswith("/"):
            words = set(re.findall(r"\w+", text))
            missing = [m for m in modules(PACKAGE / name) if m != "__init__" and m not in words]
            assert missing == [], f"rag/{name} in the README misses {missing}"


# A round of work or a ticket named by its number: "session" or "issue" and a number, "#12",
# a "-run" and a number in a file name (spelled apart here so this file names none).
_ROUND = re.compile(r"\b(?:session|issue|ticket|round)[ _-]?#?\d+|(?<=[\s(])#\d+\b|-run\d", re.I)
_TEXT = {".py", ".md", ".toml", ".js", ".css", ".html", ".txt", ".json", ".jsonl", ".cfg", ""}


def test_nothing_names_the_round_of_work_it_came_from() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    found = [name for name in tracked if _ROUND.search(name)]
    for name in tracked:
        path = REPO / name
        if path.suffix in _TEXT and path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            found += [f"{name}: {m.group()}" for m in _ROUND.finditer(text)]
    assert found == []
