"""Every README snippet runs on its own: each ``python`` block in a fresh interpreter, the ``sh``
blocks in order in one scratch folder, and the quick-start demo. ``text`` blocks are synopses."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```(\w*)\n(.*?)^```", README, flags=re.MULTILINE | re.DOTALL)
PYTHON = [code for lang, code in BLOCKS if lang == "python"]
SHELL = [code for lang, code in BLOCKS if lang == "sh"]
QUICK_START = "./scripts/demo.sh"
BIN = str(Path(sys.executable).parent)


def test_every_block_is_tagged() -> None:
    assert {lang for lang, _ in BLOCKS} <= {"python", "sh", "text", ""}
    assert len(PYTHON) >= 4 and len(SHELL) >= 4


def test_readme_and_docs_cite_nothing_outside_the_repository() -> None:
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        assert "DESIGN" not in text, path
        for target in re.findall(r"\]\(([^)#]+)", text):
            if not target.startswith("http"):
                assert (path.parent / target).exists(), (path, target)


@pytest.mark.parametrize("code", PYTHON, ids=[f"python-{i}" for i in range(len(PYTHON))])
def test_python_snippet_runs_alone(code: str, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_shell_snippets_run_in_order(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    commands = [block for block in SHELL if QUICK_START not in block]
    script = "set -euo pipefail\n" + "\n".join(commands)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "XDG_STATE_HOME": str(tmp_path / "state")}
    env.pop("VCSDK_CONFIG", None)
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "VALID" in done.stdout


def test_quick_start_demo_runs(tmp_path: Path) -> None:
    """The first of the two README commands (the second, scripts/test.sh, is what runs this test)."""
    assert any(QUICK_START in block for block in SHELL)
    env = {**os.environ, "VCSDK_DEMO_OUT": str(tmp_path / "demo-out")}
    done = subprocess.run(
        [str(ROOT / "scripts" / "demo.sh")], cwd=ROOT, capture_output=True, text=True, timeout=600, env=env, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "STATUS_SUSPENDED" in done.stdout
    assert "warning" not in done.stderr.lower(), done.stderr[-2000:]
