"""Cold start of the `rag` command: wall time of fresh processes on a small index.

    python bench/startup.py [--runs 5] [--pythonpath DIR] [--info-command info]

Builds an index of examples/demo once (in a temporary folder), lets the first search write
what later ones reuse (the question encoder's export and its check), then times each command
`--runs` times in a new process: `rag --help`, `rag search --mode bm25`, `rag search` (hybrid,
the question encoded by the ONNX export alone) and `rag index info`. `--pythonpath` runs another
checkout's rag (`--info-command status` for one that still calls it so). Prints a table and
writes bench/results/startup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import RESULTS

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo"


def timed(args: list[str], env: dict[str, str]) -> float:
    """Seconds one `python -m rag.cli ARGS` takes, start to exit."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "rag.cli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pythonpath", default=None, help="Checkout whose rag to time.")
    parser.add_argument("--info-command", default="info")
    parser.add_argument("--out", type=Path, default=RESULTS / "startup.json")
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if args.pythonpath:
        env["PYTHONPATH"] = args.pythonpath
    with tempfile.TemporaryDirectory() as work:
        index = ["--index", str(Path(work) / "index")]
        subprocess.run(
            [sys.executable, "-m", "rag.cli", "index", "add", str(DEMO), *index, "--json"],
            env=env,
            stdout=subprocess.DEVNULL,
            check=True,
        )
        timed(["search", "police ICE", *index], env)  # the first search writes what others reuse
        commands = {
            "rag --help": ["--help"],
            "rag search --mode bm25": ["search", "police ICE", "--mode", "bm25", *index],
            "rag search (hybrid)": ["search", "police ICE", *index],
            f"rag index {args.info_command}": ["index", args.info_command, *index],
        }
        runs = {
            name: [timed(argv, env) for _ in range(args.runs)] for name, argv in commands.items()
        }
    result = {
        name: {"median_s": round(statistics.median(t), 3), "runs_s": [round(x, 3) for x in t]}
        for name, t in runs.items()
    }
    RESULTS.mkdir(exist_ok=True)
    args.out.write_text(json.dumps({"pythonpath": args.pythonpath, "commands": result}, indent=2))
    width = max(map(len, result))
    for name, row in result.items():
        print(f"{name:<{width}}  {row['median_s']:.2f} s  (runs: {row['runs_s']})")


if __name__ == "__main__":
    main()
