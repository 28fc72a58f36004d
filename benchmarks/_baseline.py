"""Timing older code in the same run: ``--baseline DIR`` (a checkout of vcsdk, e.g. a ``git
worktree`` of the main branch) runs a probe in a child process that imports ``vcsdk`` and the CLI
from ``DIR`` instead of this tree."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path


@functools.lru_cache(maxsize=8)
def _import_root(code: Path) -> str:
    """A folder whose ``vcsdk`` and ``vcsdk_cli`` are those of the checkout ``code``."""
    if not (code / "vcsdk" / "__init__.py").is_file() or not (code / "cli" / "__init__.py").is_file():
        raise SystemExit(f"--baseline {code}: not a vcsdk checkout (no vcsdk/ and cli/ packages)")
    root = tempfile.mkdtemp(prefix="vcsdk-baseline-")
    atexit.register(shutil.rmtree, root, True)
    os.symlink(code.resolve() / "vcsdk", Path(root) / "vcsdk")
    os.symlink(code.resolve() / "cli", Path(root) / "vcsdk_cli")
    return root


def env(code: Path | None) -> dict[str, str] | None:
    """The environment of a child that runs ``code``'s vcsdk (``None``: this tree, unchanged)."""
    if code is None:
        return None
    return {**os.environ, "PYTHONPATH": _import_root(code)}


def cwd(code: Path | None) -> str | None:
    """The working folder of such a child (``python -m``/``-c`` put it first on ``sys.path``)."""
    return None if code is None else _import_root(code)
