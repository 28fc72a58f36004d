"""cffi (API mode) build script of the Ed25519 batch verifier, :mod:`vcsdk._native._batch25519`.

Listed in ``setup.py``'s ``cffi_modules`` beside the fast lane; links the system libsodium
(Debian ``libsodium-dev``, installed by ``scripts/bootstrap.sh``). :func:`builder` also makes an
AddressSanitizer build for fuzzing (``absolute_paths`` for ``ffi.compile`` elsewhere).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import cffi

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "batch25519.c")

CDEF = """
#define VCB_MAX_ITEMS 256
int vcb_init(void);
int vcb_is_valid_point(const unsigned char s[32]);
int vcb_are_valid_points(size_t n, const unsigned char *encodings, unsigned char *out);
int vcb_verify(size_t n, const unsigned char *const *msgs, const size_t *mlens, const unsigned char *sigs,
               const unsigned char *pks, unsigned char *ok);
int vcb_verify_joined(size_t n, const unsigned char *joined, size_t joined_len, const size_t *mlens,
                      const unsigned char *sigs, const unsigned char *pks, unsigned char *ok);
"""


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
