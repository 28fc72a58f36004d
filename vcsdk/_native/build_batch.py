"""cffi (API mode) build script of the Ed25519 batch verifier, :mod:`vcsdk._native._batch25519`.

Listed in ``setup.py``'s ``cffi_modules`` beside the fast lane; links the system libsodium
(Debian ``libsodium-dev``, installed by ``scripts/bootstrap.sh``). :func:`builder` also makes an
AddressSanitizer build for fuzzing (``absolute_paths`` for ``ffi.compile`` elsewhere).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from types import ModuleType

import cffi

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "batch25519.c")

HEADER = os.path.join(HERE, "batch25519.h")


def _fastlane_build() -> ModuleType:
    """The fast lane's build script, loaded by path (setuptools runs these scripts by path, before
    the package is importable): its ``_cdef`` reads a header into cffi declarations."""
    spec = importlib.util.spec_from_file_location("_vcsdk_build_fastlane", os.path.join(HERE, "build_fastlane.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CDEF = _fastlane_build()._cdef(HEADER)
"""The declarations cffi needs, read from ``batch25519.h`` (one source of truth)."""


def builder(
    module: str = "vcsdk._native._batch25519",
    extra_compile_args: Sequence[str] = ("-O3",),
    extra_link_args: Sequence[str] = (),
    *,
    absolute_paths: bool = False,
    extra_cdef: str = "",
    extra_preamble: str = "",
) -> cffi.FFI:
    """An FFI builder for the batch verifier under the module name ``module`` (source paths
    relative to ``setup.py`` for setuptools, or absolute with ``absolute_paths``; the fuzz
    harness adds libc's ``malloc``/``free`` through ``extra_cdef`` and ``extra_preamble``)."""
    source = SOURCE if absolute_paths else os.path.relpath(SOURCE)
    ffi = cffi.FFI()
    ffi.cdef(CDEF + extra_cdef)
    ffi.set_source(
        module,
        '#include "batch25519.h"\n' + extra_preamble,
        sources=[source],
        include_dirs=[HERE if absolute_paths else os.path.relpath(HERE)],
        libraries=["sodium"],
        extra_compile_args=["-std=gnu11", "-Wall", "-Wextra", *extra_compile_args],
        extra_link_args=list(extra_link_args),
    )
    return ffi


ffibuilder = builder()

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
