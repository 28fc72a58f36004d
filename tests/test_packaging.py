"""The wheel and sdist build from a clean copy of the tree and pass ``twine check --strict``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT
from vcsdk import _native


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
        "vcsdk/_native/fastlane.c",
        "vcsdk/_native/fastlane.h",
    ):
        assert needed in names, needed
    if _native.available():  # it built here, so the wheel carries it too
        assert any(n.startswith("vcsdk/_native/_fastlane") and n.endswith(".so") for n in names), sorted(names)
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("/METADATA"))).decode()
    for extra in ("zxing", "postgresql"):
        assert f"Provides-Extra: {extra}" in metadata
    assert "Requires-Python: >=3.11" in metadata
    assert (
        "vcsdk = vcsdk_cli.main:main"
        in zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("/entry_points.txt"))).decode()
    )


NOTICE = "vcsdk: compiled fast lane not built"


@pytest.mark.parametrize(
    "environment",
    [{"CC": "/nonexistent/cc"}, {"CFLAGS": "-include vcsdk_no_such_header.h"}],
    ids=["no compiler", "missing header"],
)
def test_a_failed_native_build_is_one_notice_not_an_error(tmp_path: Path, environment: dict[str, str]) -> None:
    """No C compiler or no headers: the build succeeds without the module, saying so in one line."""
    built = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "-b", str(tmp_path / "lib"), "-t", str(tmp_path / "tmp")],
        cwd=ROOT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    notices = [line for line in built.stderr.splitlines() if line.startswith(NOTICE)]
    assert len(notices) == 1, built.stderr[-2000:]
    assert notices[0].endswith("the pure-Python lane will run")
    assert not list((tmp_path / "lib").rglob("*.so"))
