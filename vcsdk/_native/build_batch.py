"""cffi (API mode) build of the Ed25519 batch verifier ``vcsdk._native._batch25519``.

Used as a setuptools ``cffi_modules`` entry (``vcsdk/_native/build_batch.py:ffibuilder``) or run
directly to build the module in place: ``python vcsdk/_native/build_batch.py``. Needs a C compiler
and the libsodium headers (Debian ``libsodium-dev``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from cffi import FFI  # type: ignore[import-untyped]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

CDEF = """
    #define VCB_MAX_ITEMS 256
    int vcb_init(void);
    int vcb_key_check(const unsigned char pk[32]);
    int vcb_point_valid(const unsigned char s[32]);
    int vcb_verify(size_t n, const unsigned char *const *msgs, const size_t *mlens, const unsigned char *sigs,
                   const unsigned char *pks, unsigned char *ok);
"""


def make_builder(root: str = "") -> FFI:
    """The FFI builder; paths relative to ``root`` (empty: the project root, for setuptools)."""
    builder = FFI()
    builder.cdef(CDEF)
    builder.set_source(
        "vcsdk._native._batch25519",
        '#include "batch25519.h"',
        sources=[os.path.join(root, "vcsdk", "_native", "batch25519.c")],
        include_dirs=[os.path.join(root, "vcsdk", "_native")],
        libraries=["sodium"],
        extra_compile_args=["-O2", "-std=gnu11"],
    )
    return builder


ffibuilder = make_builder()


def build_in_place() -> Path:
    """Compile in a scratch directory and copy the module next to this file (atomically)."""
    with tempfile.TemporaryDirectory() as scratch:
        built = Path(make_builder(str(ROOT)).compile(tmpdir=scratch, verbose=False))
        target = HERE / built.name
        partial = target.with_name(target.name + ".part")
        shutil.copyfile(built, partial)
        os.replace(partial, target)
    return target


if __name__ == "__main__":
    print(build_in_place())
