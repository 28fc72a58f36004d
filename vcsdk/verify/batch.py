"""Ed25519 batch verification with exactly libsodium's per-signature verdicts.

The compiled module (``vcsdk._native._batch25519``, built from ``vcsdk/_native/batch25519.c``)
checks many signatures with one random linear combination ``sum z_i (S_i B - h_i A_i - R_i) = 0``
(``z_i`` uniform 128-bit from the OS RNG, equal keys collapsed into one scalar multiplication).
It only ever *proves* signatures valid; everything it cannot prove is verified again, one by one,
by libsodium (PyNaCl), so one bad signature never rejects or accepts another:

* an item failing libsodium's pre-checks (S < L, R and A canonical, neither of small order) never
  enters a combination;
* nor does an item whose R lies outside the prime-order subgroup (``[L]R != 0``). With A and R of
  prime order, every term ``S B - h A - R`` has prime order, so the combination vanishes (except
  with probability about 2^-128) exactly when every term does, i.e. when libsodium's cofactorless
  check ``R = S B - h A`` holds. A torsion component in R (which only the key's holder can put
  into an otherwise valid signature) would cancel from a bare combination whenever its ``z_i`` is
  a multiple of the torsion's order (probability 1/8 to 1/2) and be accepted where libsodium
  rejects it. The check costs about four fifths of a signature verification per item (which is
  why :class:`FastVerifier` batches only with ``batch=True``); it is the price of verdicts
  identical to libsodium's;
* a key enters only once known to lie in the prime-order subgroup (``[L]A = 0``, checked the
  second time the key is seen, then cached): device keys seen once are verified singly;
* a failing combination is bisected; items left in halves of at most two are verified singly.

Without the compiled module (or with ``VCSDK_PURE=1``, which also sends verifiers to the
pure-Python lane) nothing is proven and every signature is verified singly: same verdicts, no
speed-up. :meth:`FastVerifier.check_many` batches only with ``batch=True``, on a verifier's
compiled lane.

:func:`presumed` hands the proven triples to :meth:`vcsdk.keys.Ed25519PublicKey.verify` for one
batch, so the whole verification pipeline (and its error codes) runs unchanged.
"""

from __future__ import annotations

import importlib
import os
from collections import OrderedDict
from collections.abc import Container, Iterable, Iterator, Sequence
from contextlib import contextmanager
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
KEY_CACHE_SIZE = 16_384


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


class _KeyCache:
    """Keys known to be (or not to be) in the prime-order subgroup; bounded LRU.

    A key is checked the second time it is seen: the check costs about two signature
    verifications, which a key seen only once (a first-time device key) would never repay."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._known: OrderedDict[bytes, bool] = OrderedDict()
        self._seen: OrderedDict[bytes, None] = OrderedDict()

    def usable(self, lib: Any, key: bytes) -> bool:
        known = self._known.get(key)
        if known is not None:
            self._known.move_to_end(key)
            return known
        if key not in self._seen:
            self._seen[key] = None
            if len(self._seen) > self._size:
                self._seen.popitem(last=False)
            return False
        del self._seen[key]
        verdict: bool = lib.vcb_key_check(key) == 1
        self._known[key] = verdict
        if len(self._known) > self._size:
            self._known.popitem(last=False)
        return verdict


_keys = _KeyCache(KEY_CACHE_SIZE)


def reset_key_cache(known: Iterable[bytes] = ()) -> None:
    """Forget every key seen, then check ``known`` keys now (benchmarks and tests: a gate that has
    been running for a while knows its issuer keys; its device keys are new)."""
    global _keys
    _keys = _KeyCache(KEY_CACHE_SIZE)
    lib = _native_lib
    for key in known:
        if lib is not None and len(key) == 32:
            _keys.usable(lib, key)
            _keys.usable(lib, key)


def proven(items: Sequence[Triple]) -> set[Triple]:
    """The triples a batch equation proved valid (empty without the compiled module).

    A triple not returned may still be valid: verify it singly."""
    lib = _lib
    found: set[Triple] = set()
    if lib is None or _pure_forced():
        return found
    usable = [
        item
        for item in items
        if len(item[0]) == 32 and len(item[2]) == 64 and type(item[1]) is bytes and _keys.usable(lib, item[0])
    ]
    if len(usable) < 2:
        return found  # one signature: a single check is as fast
    ffi = _ffi
    for start in range(0, len(usable), MAX_ITEMS):
        chunk = usable[start : start + MAX_ITEMS]
        n = len(chunk)
        buffers = [ffi.from_buffer(message) for _, message, _ in chunk]
        messages = ffi.new("const unsigned char *[]", buffers)
        lengths = ffi.new("size_t[]", [len(message) for _, message, _ in chunk])
        ok = ffi.new("unsigned char[]", n)
        signatures = b"".join(item[2] for item in chunk)
        keys = b"".join(item[0] for item in chunk)
        if lib.vcb_verify(n, messages, lengths, signatures, keys, ok) < 0:
            continue
        found.update(item for item, good in zip(chunk, ffi.unpack(ok, n), strict=True) if good)
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
    return [item in good or verify_single(*item) for item in items]


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
    "reset_key_cache",
    "set_native",
    "verify_batch",
    "verify_single",
]
