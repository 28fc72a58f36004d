"""cffi (API mode) build script of the compiled fast lane, :mod:`vcsdk._native._fastlane`.

Listed in ``setup.py``'s ``cffi_modules``; links the system libsodium and zlib (Debian
``libsodium-dev`` and ``zlib1g-dev``, installed by ``scripts/bootstrap.sh``). :func:`builder`
also makes the AddressSanitizer build the fuzz harness uses (``fuzz/native.py``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import cffi

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "fastlane.c")

CDEF = """
#define VL_OK 0
#define VL_FALLBACK 1
#define VL_CREDENTIAL 0
#define VL_PRESENTATION 1
typedef struct vl_ctx vl_ctx;
typedef struct {
    const uint8_t *kid;
    size_t kid_len;
    const uint8_t *payload;
    size_t payload_len;
    const uint8_t *signature;
    size_t signature_len;
    const uint8_t *tbs;
    size_t tbs_len;
} vl_parts;
int vl_init(void);
const char *vl_sodium_version(void);
const char *vl_zlib_version(void);
vl_ctx *vl_new(size_t max_text, size_t max_inflated);
void vl_free(vl_ctx *ctx);
int vl_open(vl_ctx *ctx, const uint8_t *text, size_t len, const uint8_t *prefix, size_t prefix_len, int kind,
            vl_parts *parts);
int vl_sign1(vl_ctx *ctx, const uint8_t *data, size_t len, int kind, vl_parts *parts);
int vl_verify(const uint8_t *signature, size_t signature_len, const uint8_t *message, size_t message_len,
              const uint8_t *public_key, size_t public_key_len);
"""


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
    source = SOURCE if absolute_paths else os.path.relpath(SOURCE)
    ffi = cffi.FFI()
    ffi.cdef(CDEF + extra_cdef)
    ffi.set_source(
        module,
        '#include "fastlane.h"\n' + extra_preamble,
        sources=[source],
        include_dirs=[HERE if absolute_paths else os.path.relpath(HERE)],
        libraries=["sodium", "z"],
        extra_compile_args=["-std=c11", "-Wall", "-Wextra", *extra_compile_args],
        extra_link_args=list(extra_link_args),
    )
    return ffi


ffibuilder = builder()

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
