"""The compiled lane's Python side: one C context per verifier, bytes in, bytes out.

:class:`NativeLane` runs the byte-level work of a scan in C (:mod:`vcsdk._native`) and hands
back plain ``bytes`` (kid, payload, Sig_structure, signature), or None whenever the C code did
not accept the input: the caller then takes the reference path, which names the failure. The
signature checks verify with libsodium's detached verify and, when it says no, let the
reference key (PyNaCl) say no too, so a rejection always carries the reference's verdict.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .._native import FFI, LIB
from ..errors import SignatureInvalid, UsageError
from ..keys.base import PublicKey
from ..keys.ed25519 import Ed25519PublicKey
from ..limits import Limits
from ..trust.store import TrustedKey


class Parts(NamedTuple):
    """A COSE_Sign1 of the canonical shape, taken apart by the C code."""

    kid: bytes
    """The protected kid (empty for a presentation, whose protected header has none)."""
    payload: bytes
    to_be_signed: bytes
    signature: bytes


class NativeLane:
    """A C context (buffers sized by ``limits``, a reused inflater) for one verifier.

    Not thread-safe, like the verifier that owns it. Raises :class:`UsageError` when the compiled
    module is absent or the limits exceed what the C buffers take (16 MiB).
    """

    __slots__ = ("_ctx", "_parts", "_prefix")

    def __init__(self, limits: Limits, prefix: str) -> None:
        if LIB is None:
            raise UsageError("the compiled fast lane is not built (vcsdk --version says why)")
        ctx = LIB.vl_new(limits.max_text_chars, limits.max_inflated_bytes)
        if ctx == FFI.NULL:
            raise UsageError("these limits exceed the compiled fast lane's buffers (16 MiB)")
        self._ctx: Any = FFI.gc(ctx, LIB.vl_free)
        self._parts: Any = FFI.new("vl_parts *")
        self._prefix = prefix.encode("ascii")

    def _taken(self, with_kid: bool) -> Parts:
        parts = self._parts
        buffer = FFI.buffer
        return Parts(
            buffer(parts.kid, 8)[:] if with_kid else b"",
            buffer(parts.payload, parts.payload_len)[:],
            buffer(parts.tbs, parts.tbs_len)[:],
            buffer(parts.signature, parts.signature_len)[:],
        )

    def open_text(self, text: str, prefix: bytes | None = None, *, presentation: bool = False) -> Parts | None:
        """Prefix, Base45, zlib and the COSE_Sign1 split of a QR text; None: not accepted here."""
        try:
            raw = text.encode("ascii")
        except UnicodeEncodeError:
            return None
        prefix = self._prefix if prefix is None else prefix
        kind = LIB.VL_PRESENTATION if presentation else LIB.VL_CREDENTIAL
        if LIB.vl_open(self._ctx, raw, len(raw), prefix, len(prefix), kind, self._parts) != LIB.VL_OK:
            return None
        return self._taken(not presentation)

    def open_sign1(self, data: bytes) -> Parts | None:
        """The COSE_Sign1 split of a credential's bytes (inside a presentation); None: not accepted."""
        if LIB.vl_sign1(self._ctx, data, len(data), LIB.VL_CREDENTIAL, self._parts) != LIB.VL_OK:
            return None
        return self._taken(True)


def verify_candidates(candidates: tuple[TrustedKey, ...], to_be_signed: bytes, signature: bytes) -> TrustedKey:
    """:func:`vcsdk.verify.authenticate.verify_signature` with libsodium's detached verify."""
    for candidate in candidates:
        key = candidate.key
        if type(key) is Ed25519PublicKey:
            if LIB.vl_verify(signature, len(signature), to_be_signed, len(to_be_signed), key.raw, 32) == 0:
                return candidate
            continue
        try:
            key.verify(to_be_signed, signature)
        except SignatureInvalid:
            continue
        return candidate
    raise SignatureInvalid("the signature does not verify with any trusted key of this kid")


def verify_key(key: PublicKey, message: bytes, signature: bytes) -> None:
    """``key.verify`` with libsodium's detached verify first; a rejection is the key's own."""
    if (
        type(key) is Ed25519PublicKey
        and LIB.vl_verify(signature, len(signature), message, len(message), key.raw, 32) == 0
    ):
        return
    key.verify(message, signature)


__all__ = ["NativeLane", "Parts", "verify_candidates", "verify_key"]
