"""The compiled part of vcsdk: cffi extension modules and one C-API module (everything else is in
pyproject.toml).

Each entry of ``CFFI_MODULES`` is ``"path/to/build_x.py:ffibuilder"``; add a module by adding a
line. The modules are optional: when one does not build (no C compiler, no libsodium or zlib
headers) the install goes on with one notice line and the package runs on its pure-Python lane
(``vcsdk --version`` says so). ``VCSDK_NO_NATIVE=1`` at build time skips them all.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

EXT_MODULES = [
    # Python's C API: positional constructors for frozen, slotted dataclasses (vcsdk/_slots.py)
    Extension("vcsdk._native._objects", ["vcsdk/_native/objects.c"]),
]
CFFI_MODULES = [
    "vcsdk/_native/build_fastlane.py:ffibuilder",
    "vcsdk/_native/build_batch.py:ffibuilder",
]


class OptionalBuildExt(build_ext):
    """``build_ext`` whose failures are a notice, not an error: the pure lane stays. One line
    names every module that did not build."""

    def run(self) -> None:
        self._failed: list[str] = []
        try:
            super().run()
        except Exception as exc:
            self._failed.append(f"the build: {self._reason(exc)}")
        if self._failed:
            print(
                f"vcsdk: compiled fast lane not built ({'; '.join(self._failed)}); the pure-Python lane will run",
                file=sys.stderr,
            )

    def build_extension(self, ext: Any) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._failed.append(f"{ext.name}: {self._reason(exc)}")

    @staticmethod
    def _reason(exc: BaseException) -> str:
        return " ".join(str(exc).split()) or type(exc).__name__


if os.environ.get("VCSDK_NO_NATIVE", "") in ("", "0"):
    setup(cffi_modules=CFFI_MODULES, ext_modules=EXT_MODULES, cmdclass={"build_ext": OptionalBuildExt})
else:
    setup()
