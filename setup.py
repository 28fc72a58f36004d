"""The compiled part of vcsdk: cffi extension modules (everything else is in pyproject.toml).

Each entry of ``CFFI_MODULES`` is ``"path/to/build_x.py:ffibuilder"``; add a module by adding a
line. ``VCSDK_NO_NATIVE=1`` at build time skips them all: the package then runs on its pure-Python
lane (``vcsdk --version`` says so).
"""

from __future__ import annotations

import os

from setuptools import setup

CFFI_MODULES = [
    "vcsdk/_native/build_fastlane.py:ffibuilder",
]

if os.environ.get("VCSDK_NO_NATIVE", "") in ("", "0"):
    setup(cffi_modules=CFFI_MODULES)
else:
    setup()
