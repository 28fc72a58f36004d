"""The wheel and sdist build from a clean copy of the tree and pass ``twine check --strict``."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT


def _clean_copy(target: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / name.decode()
        if source.is_file():
            (target / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name.decode(), follow_symlinks=False)
        elif source.is_symlink():
            (target / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            (target / name.decode()).symlink_to(source.readlink())
    return target


def test_wheel_and_sdist_build_and_pass_twine_check(tmp_path: Path) -> None:
    tree = _clean_copy(tmp_path / "tree")
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(tree)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    log = built.stdout + built.stderr
    assert "would be ignored" not in log and "SetuptoolsDeprecationWarning" not in log
    wheel = next(dist.glob("*.whl"))
    sdist = next(dist.glob("*.tar.gz"))
    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "vcsdk/py.typed",
        "vcsdk/schemas/error-codes.json",
        "vcsdk/schemas/official-id.schema.json",
        "vcsdk_cli/main.py",
        "vcsdk_cli/verify_cmds.py",
        "vcsdk/trust/sources.py",
    ):
        assert needed in names, needed
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("/METADATA"))).decode()
    for extra in ("zxing", "postgresql"):
        assert f"Provides-Extra: {extra}" in metadata
    assert "Requires-Python: >=3.11" in metadata
    assert (
        "vcsdk = vcsdk_cli.main:main"
        in zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("/entry_points.txt"))).decode()
    )
