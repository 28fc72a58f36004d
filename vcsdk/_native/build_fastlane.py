"""cffi (API mode) build script of the compiled fast lane, :mod:`vcsdk._native._fastlane`.

Listed in ``setup.py``'s ``cffi_modules``; links the system libsodium and zlib (Debian
``libsodium-dev`` and ``zlib1g-dev``, installed by ``scripts/bootstrap.sh``). :func:`builder`
also makes the AddressSanitizer build the fuzz harness uses (``fuzz/native.py``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import cffi

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = (os.path.join(HERE, "fastlane.c"), os.path.join(HERE, "claims.c"))

HEADER = os.path.join(HERE, "fastlane.h")


def _cdef(header: str) -> str:
    """The declarations cffi needs, read from the C header itself (one source of truth): the
    header without its preprocessor lines, except ``#define NAME <integer>`` constants."""
    with open(header, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    return "\n".join(line for line in lines if not line.startswith("#") or re.fullmatch(r"#define \w+ -?\d+\b.*", line))


CDEF = _cdef(HEADER)


def builder(
    module: str = "vcsdk._native._fastlane",
    extra_compile_args: Sequence[str] = ("-O2",),
    extra_link_args: Sequence[str] = (),
    *,
    absolute_paths: bool = False,
    extra_cdef: str = "",
    extra_preamble: str = "",
) -> cffi.FFI:
    """An FFI builder for the fast lane's C source under the module name ``module``.

    setuptools wants source paths relative to ``setup.py`` (the working directory of a build);
    ``absolute_paths`` is for ``ffi.compile`` elsewhere (the AddressSanitizer build, whose harness
    also declares libc's ``malloc``/``free`` through ``extra_cdef`` and ``extra_preamble``).
    """
    sources = [path if absolute_paths else os.path.relpath(path) for path in SOURCES]
    ffi = cffi.FFI()
    ffi.cdef(CDEF + extra_cdef)
    ffi.set_source(
        module,
        '#include "fastlane.h"\n' + extra_preamble,
        sources=sources,
        include_dirs=[HERE if absolute_paths else os.path.relpath(HERE)],
        libraries=["sodium", "z"],
        extra_compile_args=["-std=c11", "-Wall", "-Wextra", *extra_compile_args],
        extra_link_args=list(extra_link_args),
    )
    return ffi


ffibuilder = builder()

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
