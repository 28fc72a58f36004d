"""cffi (API mode) build of the Ed25519 batch verifier ``vcsdk._native._batch25519``.

Used as a setuptools ``cffi_modules`` entry (``vcsdk/_native/build_batch.py:ffibuilder``) or run
directly to build the module in place: ``python vcsdk/_native/build_batch.py``. Needs a C compiler
and the libsodium headers (Debian ``libsodium-dev``).
"""

from __future__ import annotations

import os
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

ffibuilder = FFI()
ffibuilder.cdef(
    """
    #define VCB_MAX_ITEMS 256
    int vcb_init(void);
    int vcb_key_check(const unsigned char pk[32]);
    int vcb_point_valid(const unsigned char s[32]);
    int vcb_verify(size_t n, const unsigned char *const *msgs, const size_t *mlens, const unsigned char *sigs,
                   const unsigned char *pks, unsigned char *ok);
    """
)
ffibuilder.set_source(
    "vcsdk._native._batch25519",
    '#include "batch25519.h"',
    sources=["vcsdk/_native/batch25519.c"],
    include_dirs=["vcsdk/_native"],
    libraries=["sodium"],
    extra_compile_args=["-O2", "-std=gnu11"],
)

if __name__ == "__main__":
    os.chdir(ROOT)
    ffibuilder.compile(tmpdir=str(ROOT), verbose=False)
