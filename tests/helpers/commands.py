"""The `rag` command run as a user runs it: in its own process, offline."""

from __future__ import annotations

import os
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
