"""The `rag` command run as a user runs it: in its own process, offline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

RagRunner = Callable[..., "subprocess.CompletedProcess[str]"]


def offline_env() -> dict[str, str]:
    """This environment without HF_/TRANSFORMERS_/RAG_ settings, and with any network use doomed
    to fail (proxies pointed at a closed port)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_", "RAG_"))
    }
    env.update(HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9", NO_PROXY="")
    return env


def offline_runner(
    index: Path, command: list[str] | None = None, cwd: Path | None = None
) -> RagRunner:
    """Runs `rag ARGS --index INDEX --json` (by default `python -m rag.cli`)."""
    env = offline_env()
    base = command or [sys.executable, "-m", "rag.cli"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*base, *args, "--index", str(index), "--json"],
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            timeout=900,
            check=False,
        )

    return run


def install_wheel(repo: Path, work: Path) -> Path:
    """Build rag's wheel as a user would (`pip wheel --no-deps .`) and install it into a fresh
    virtual environment that sees this interpreter's packages for its dependencies; returns the
    environment's bin folder. The wheel's `rag` shadows any editable install."""
    wheels, venv, source = work / "wheels", work / "venv", work / "source"
    # Built from a copy: setuptools builds in the source tree, and a build/ folder left there
    # would carry removed modules into the next wheel.
    shutil.copytree(repo, source, ignore=_not_source(repo))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", str(source), "-w", str(wheels)], check=True)
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    [wheel] = wheels.glob("rag-*.whl")
    installed = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*installed, "install", "--no-deps", "--no-index", str(wheel)], check=True)
    return venv / "bin"


def _not_source(repo: Path) -> Callable[[str, list[str]], set[str]]:
    """What a copy of the checkout leaves out: version control, caches, builds, built indexes."""
    top = {".git", "build", "dist", "index", "eval-runs", "bench", "docs", "tests"}

    def ignore(folder: str, names: list[str]) -> set[str]:
        left = {n for n in names if n == "__pycache__" or n.endswith((".egg-info", "_cache"))}
        return left | (top & set(names) if Path(folder) == repo else set())

    return ignore
