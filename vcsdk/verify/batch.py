"""Ed25519 batch verification with exactly libsodium's per-signature verdicts.

The compiled module (``vcsdk._native._batch25519``, built from ``vcsdk/_native/batch25519.c``)
checks many signatures with one random linear combination ``sum z_i (S_i B - h_i A_i - R_i) = 0``
(``z_i`` uniform 128-bit from the OS RNG, equal keys collapsed into one scalar multiplication).
It only ever *proves* signatures valid; everything it cannot prove is verified again, one by one,
by libsodium (PyNaCl), so one bad signature never rejects or accepts another:

* an item failing libsodium's pre-checks (S < L, R and A canonical, neither of small order) never
  enters a combination;
* nor does an item whose key A or whose R lies outside the prime-order subgroup. With A and R of
  prime order, every term ``S B - h A - R`` has prime order, so the combination vanishes (except
  with probability about 2^-128) exactly when every term does, i.e. when libsodium's cofactorless
  check ``R = S B - h A`` holds. A torsion component in R (which only the key's holder can put
  into an otherwise valid signature) would cancel from a bare combination whenever its ``z_i`` is
  a multiple of the torsion's order (probability 1/8 to 1/2) and be accepted where libsodium
  rejects it; under a key with a torsion component libsodium itself accepts some signatures
  whose terms do not vanish. The C code decides subgroup membership without a multiplication by
  the group order (a Tate-pairing symbol and one point halving: about a quarter of the
  instructions of libsodium's ``crypto_core_ed25519_is_valid_point``, with the same answers), for
  every key and every R;
* a failing combination is bisected; items left in halves of at most two are verified singly.

Without the compiled module (or with ``VCSDK_PURE=1``, which also sends verifiers to the
pure-Python lane) nothing is proven and every signature is verified singly: same verdicts, no
speed-up. :meth:`FastVerifier.check_many` batches on a verifier's compiled lane unless the
verifier was made with ``batch=False``.

:func:`presumed` hands the proven triples to :meth:`vcsdk.keys.Ed25519PublicKey.verify` for one
batch, so the whole verification pipeline (and its error codes) runs unchanged.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Container, Iterator, Sequence
from contextlib import contextmanager
from itertools import compress
from typing import Any

import nacl.exceptions
import nacl.signing

from .._native import ENV_PURE
from ..keys.ed25519 import BATCH_VERIFIED

Triple = tuple[bytes, bytes, bytes]
"""(raw 32-byte public key, message, 64-byte signature)."""

BATCH_SCANS = 64
"""Scans verified together by :meth:`FastVerifier.check_many` (up to two signatures each)."""
MAX_ITEMS = 256
"""Signatures per call of the compiled module."""


def _load() -> tuple[Any, Any]:
    """(ffi, lib) of the compiled module, or (None, None) when absent or disabled."""
    try:
        module: Any = importlib.import_module("vcsdk._native._batch25519")
    except ImportError:  # not built: the pure path
        return None, None
    if module.lib.vcb_init() != 0:
        return None, None
    return module.ffi, module.lib


_ffi, _native_lib = _load()
_lib: Any = _native_lib


def native_available() -> bool:
    """True when the compiled batch verifier is built and loaded."""
    return _native_lib is not None


def _pure_forced() -> bool:
    return os.environ.get(ENV_PURE, "") not in ("", "0")


def native_enabled() -> bool:
    """True when batches currently use the compiled verifier (built, not bypassed by
    :func:`set_native`, and ``VCSDK_PURE`` unset)."""
    return _lib is not None and not _pure_forced()


def set_native(enabled: bool) -> bool:
    """Use (True, when built) or bypass (False) the compiled verifier; returns the previous
    setting. For tests and benchmarks that compare both paths."""
    global _lib
    previous = _lib is not None
    _lib = _native_lib if enabled else None
    return previous


def _plain(item: Triple) -> bool:
    """A tuple of three ``bytes`` (hashable and immutable while the C code reads it unlocked);
    anything else (a bytearray, a str, a list) goes to :func:`verify_single` alone."""
    return type(item) is tuple and len(item) == 3 and all(type(part) is bytes for part in item)


def proven(items: Sequence[Triple]) -> set[Triple]:
    """The triples a batch equation proved valid (empty without the compiled module).

    A triple not returned may still be valid: verify it singly."""
    lib = _lib
    found: set[Triple] = set()
    if lib is None or _pure_forced():
        return found
    usable = [  # _plain, inlined: this runs for every scan of a batch
        item
        for item in items
        if type(item) is tuple
        and len(item) == 3
        and type(item[0]) is bytes
        and type(item[1]) is bytes
        and type(item[2]) is bytes
        and len(item[0]) == 32
        and len(item[2]) == 64
    ]
    if len(usable) < 2:
        return found  # one signature: a single check is as fast
    ffi = _ffi
    for start in range(0, len(usable), MAX_ITEMS):
        chunk = usable[start : start + MAX_ITEMS]
        n = len(chunk)
        keys, messages, signatures = zip(*chunk, strict=True)
        lengths = ffi.new("size_t[]", [len(message) for message in messages])
        ok = ffi.new("unsigned char[]", n)
        joined = b"".join(messages)  # one buffer: no per-message pointer to make
        if (
            lib.vcb_verify_joined(n, joined, len(joined), lengths, b"".join(signatures), b"".join(keys), ok) < 0
        ):  # pragma: no cover
            continue  # only when malloc fails (chunks never exceed MAX_ITEMS): single checks decide
        found.update(compress(chunk, ffi.buffer(ok, n)[:]))
    return found


def verify_single(key: bytes, message: bytes, signature: bytes) -> bool:
    """libsodium's (PyNaCl's) verdict on one signature."""
    try:
        nacl.signing.VerifyKey(key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, ValueError, TypeError):
        return False
    return True


def verify_batch(items: Sequence[Triple]) -> list[bool]:
    """The verdict of every triple, identical to :func:`verify_single` on each."""
    good = proven(items)
    return [(_plain(item) and item in good) or verify_single(*item) for item in items]


@contextmanager
def presumed(triples: Container[Triple] | None) -> Iterator[None]:
    """Within the block, :meth:`Ed25519PublicKey.verify` accepts ``triples`` without a second check."""
    token = BATCH_VERIFIED.set(triples if triples else None)
    try:
        yield
    finally:
        BATCH_VERIFIED.reset(token)


__all__ = [
    "BATCH_SCANS",
    "Triple",
    "native_available",
    "native_enabled",
    "presumed",
    "proven",
    "set_native",
    "verify_batch",
    "verify_single",
]
