"""rag installed from its wheel, outside the checkout, finds what it ships: every prompt, the web
page and the int8 encoder's calibration texts. (The demo question is answered from the same
install in test_local_llm.py.)"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helpers.commands import offline_env

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
SHIPPED = """
import json, rag
from importlib import resources
from rag.llm.prompts import load_prompt
print(json.dumps({
    "module": rag.__file__,
    "prompts": {
        p.name[:-3]: load_prompt(p.name[:-3]).id
        for p in resources.files("rag.prompts").iterdir()
        if p.name.endswith(".md") and p.name != "README.md"
    },
    "web": sorted(p.name for p in (resources.files("rag.serve") / "web").iterdir()),
    "calibration": len(resources.files("rag.embed").joinpath("calibration.txt").read_text()),
}))
"""


def test_the_wheel_ships_the_prompts_the_page_and_the_calibration(
    wheel_bin: Path, tmp_path: Path
) -> None:
    ran = subprocess.run(
        [str(wheel_bin / "python"), "-c", SHIPPED],
        cwd=tmp_path,
        env=offline_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(ran.stdout)
    assert found["module"].startswith(str(wheel_bin.parent)), "the wheel's rag, not the checkout's"
    assert set(found["prompts"]) == {p.stem for p in (REPO / "prompts").glob("*.md")} - {"README"}
    assert found["web"] == sorted(p.name for p in (REPO / "rag" / "serve" / "web").iterdir())
    assert found["calibration"] > 10_000
    version = subprocess.run(
        [str(wheel_bin / "rag"), "--version"], cwd=tmp_path, capture_output=True, text=True
    )
    assert version.returncode == 0 and "0.1.0" in version.stdout
