"""The compiled lane's Python side: one C context per verifier, bytes in, bytes out.

:class:`NativeLane` runs the byte-level work of a scan in C (:mod:`vcsdk._native`) and hands
back plain ``bytes`` (kid, payload, Sig_structure, signature), or None whenever the C code did
not accept the input: the caller then takes the reference path, which names the failure. The
signature checks verify with libsodium's detached verify and, when it says no, let the
reference key (PyNaCl) say no too, so a rejection always carries the reference's verdict.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

from nacl.signing import VerifyKey

from .._native import CLAIM_SLOTS, FFI, LIB
from .._slots import slot_constructor
from ..codec.cwt import StatusReference
from ..errors import KeyProofInvalid, SignatureInvalid, UsageError
from ..holder.proof import check_device_key_encoding
from ..keys.base import PublicKey, kid_for
from ..keys.ed25519 import BATCH_VERIFIED, Ed25519PublicKey
from ..limits import Limits
from ..profiles.official_id import OfficialID
from ..trust.store import TrustedKey
from .checks import CWTClaims

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_official_id = slot_constructor(OfficialID)
_cwt_claims = slot_constructor(CWTClaims)
_status_reference = slot_constructor(StatusReference)
_ed25519_key = slot_constructor(Ed25519PublicKey)
"""Constructors without ``__init__``/``__post_init__``: the C reader has made every check."""
_CLAIM_SLOTS = CLAIM_SLOTS
_unpack_slots = struct.Struct(f"={_CLAIM_SLOTS}q").unpack_from  # int64_t[VL_CLAIM_SLOTS], in one C-level call
_KID_AT, _KID_END = 18, 26
"""Where a credential's kid lies in its Sig_structure: ``84 6a "Signature1" 4d`` (13 bytes), then
the protected header ``a2 01 27 04 48`` and the 8-byte kid."""
TEXT_STARTS = (0, 7, 9, 11, 17, 19, 21, 23, 25)
"""The slots of the text fields, each an (offset, length) pair (``fastlane.h``): iss, status uri,
then official-ID keys 1, 2, 5, 6, 7, 8, 9 (name, Latin name, agency, unit, rank, position,
employee number)."""


def python_texts(payload: bytes, slots: Sequence[int], starts: Sequence[int]) -> tuple[str | None, ...]:
    """``vcsdk._native._objects.texts`` in Python: the text at each (offset, length) slot pair, None
    for a negative offset; ``ValueError`` for a span outside ``payload`` (or text not UTF-8)."""
    made: list[str | None] = []
    for start in starts:
        if start < 0 or start + 1 >= len(slots):
            raise ValueError("texts: a start is not a slot pair")
        offset, length = slots[start], slots[start + 1]
        if offset < 0:
            made.append(None)
        elif length < 0 or offset > len(payload) or length > len(payload) - offset:
            raise ValueError("texts: a span lies outside the payload")
        else:
            made.append(payload[offset : offset + length].decode())
    return tuple(made)


try:
    from .._native._objects import texts as _texts  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - built with the fast lane; the Python twin is tested against it
    _texts = python_texts
_CLAIMS_MIN_DEPTH = 8
_CLAIMS_MIN_ITEMS = 128
"""The C claims reader runs only under limits that its largest accepted payload (depth 3, under
60 items) stays well inside; tighter limits leave the payload to the strict decoder, which
enforces them."""


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

    __slots__ = ("_claims", "_claims_bytes", "_ctx", "_parts", "_prefix", "reads_claims")

    def __init__(self, limits: Limits, prefix: str) -> None:
        if LIB is None:
            raise UsageError("the compiled fast lane is not built (vcsdk --version says why)")
        ctx = LIB.vl_new(limits.max_text_chars, limits.max_inflated_bytes)
        if ctx == FFI.NULL:
            raise UsageError("these limits exceed the compiled fast lane's buffers (16 MiB)")
        self._ctx: Any = FFI.gc(ctx, LIB.vl_free)
        self._parts: Any = FFI.new("vl_parts *")
        self._prefix = prefix.encode("ascii")
        if getattr(LIB, "VL_CLAIM_SLOTS", None) != _CLAIM_SLOTS:
            raise UsageError("the compiled fast lane is out of date: reinstall vcsdk to rebuild it")
        self._claims: Any = FFI.new("int64_t[]", _CLAIM_SLOTS)
        self._claims_bytes = FFI.buffer(self._claims)
        self.reads_claims = limits.max_cbor_depth >= _CLAIMS_MIN_DEPTH and limits.max_cbor_items >= _CLAIMS_MIN_ITEMS
        """Whether :meth:`claims` may read payloads under this lane's limits."""

    def _taken(self, with_kid: bool) -> Parts:
        """The parts as bytes, from one read: the Sig_structure and the signature's copy after it
        (``fastlane.h``); the kid and the payload are slices of the Sig_structure."""
        parts = self._parts
        size = parts.tbs_len
        joined = FFI.buffer(parts.tbs, size + parts.signature_len)[:]
        to_be_signed = joined[:size]
        return Parts(
            to_be_signed[_KID_AT:_KID_END] if with_kid else b"",
            to_be_signed[size - parts.payload_len :],
            to_be_signed,
            joined[size:],
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

    def open_scan(self, text: str) -> tuple[bytes, bytes] | None:
        """:meth:`open_text` of a credential's QR text for one scan: (kid, payload), with the
        Sig_structure and signature left in the context for :meth:`verify_scan` (or :meth:`scanned`).
        Any other call on this lane replaces them."""
        try:
            raw = text.encode("ascii")
        except UnicodeEncodeError:
            return None
        prefix, parts = self._prefix, self._parts
        if LIB.vl_open(self._ctx, raw, len(raw), prefix, len(prefix), LIB.VL_CREDENTIAL, parts) != LIB.VL_OK:
            return None
        size = parts.tbs_len
        to_be_signed = FFI.buffer(parts.tbs, size)[:]
        return to_be_signed[_KID_AT:_KID_END], to_be_signed[size - parts.payload_len :]

    def scanned(self) -> Parts:
        """The parts :meth:`open_scan` left in the context, as bytes."""
        return self._taken(True)

    def verify_scan(self, candidates: tuple[TrustedKey, ...]) -> TrustedKey:
        """:func:`verify_candidates` over the Sig_structure and signature :meth:`open_scan` left in
        the context, without copying them out; a rejection is the reference keys' own."""
        parts = self._parts
        for candidate in candidates:
            key = candidate.key
            if type(key) is Ed25519PublicKey and LIB.vl_verify_parts(parts, key.raw, 32) == 0:
                return candidate
        taken = self._taken(True)  # every candidate refused here: the usual loop names the verdict
        return verify_candidates(candidates, taken.to_be_signed, taken.signature)

    def open_sign1(self, data: bytes) -> Parts | None:
        """The COSE_Sign1 split of a credential's bytes (inside a presentation); None: not accepted."""
        if LIB.vl_sign1(self._ctx, data, len(data), LIB.VL_CREDENTIAL, self._parts) != LIB.VL_OK:
            return None
        return self._taken(True)

    def claims(self, payload: bytes) -> CWTClaims | None:
        """The typed claims of a payload in the canonical official-ID shape, read in C (``claims.c``);
        None: not accepted there (a holder key, another shape, tighter limits), the Python checks decide.

        The result equals what :func:`vcsdk.verify.checks.parse_claims` builds from the strictly
        decoded payload: the C code accepts only payloads whose every check it has made.
        """
        slots = self._claims
        if not self.reads_claims or LIB.vl_claims(payload, len(payload), slots) != LIB.VL_OK:
            return None
        return claims_from_slots(payload, _unpack_slots(self._claims_bytes))


def claims_from_slots(payload: bytes, slots: Sequence[int]) -> CWTClaims | None:
    """The typed claims from the ``VL_CLAIM_SLOTS`` integers ``vl_claims`` filled for ``payload``;
    None when the holder key fails :func:`~vcsdk.holder.proof.check_device_key_encoding`."""
    iat, exp, nbf, cti, idx, birth, code, digest, cnf = (
        slots[2],
        slots[3],
        slots[4],
        slots[5],
        slots[6],
        slots[13],
        slots[15],
        slots[27],
        slots[29],
    )
    iss, uri, name, latin, agency, unit, rank, position, employee = _texts(payload, slots, TEXT_STARTS)
    holder = None
    if cnf >= 0:  # the checks parse_cnf makes on the key (a refusal: the Python checks name it)
        raw = payload[cnf : cnf + 32]
        holder = _ed25519_key(raw, kid_for(raw), VerifyKey(raw))  # Ed25519PublicKey(raw), as its __post_init__ fills it
        try:
            check_device_key_encoding(holder)
        except KeyProofInvalid:
            return None
    official = _official_id(
        name,
        date.fromordinal(_EPOCH_ORDINAL + birth),
        code,
        agency,
        rank,
        employee,
        payload[digest : digest + 16],
        latin,
        unit,
        position,
    )
    return _cwt_claims(
        iss,
        iat,
        exp,
        None if nbf < 0 else nbf,
        payload[cti : cti + 16],
        holder,
        None if idx < 0 else _status_reference(idx, uri),
        official,
    )


def verify_candidates(candidates: tuple[TrustedKey, ...], to_be_signed: bytes, signature: bytes) -> TrustedKey:
    """:func:`vcsdk.verify.authenticate.verify_signature` with libsodium's detached verify (or
    the batch's proof, inside :func:`vcsdk.verify.batch.presumed`)."""
    proven = BATCH_VERIFIED.get()
    for candidate in candidates:
        key = candidate.key
        if type(key) is Ed25519PublicKey:
            if proven is not None and (key.raw, to_be_signed, signature) in proven:
                return candidate
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
    """``key.verify`` with libsodium's detached verify first (or the batch's proof, inside
    :func:`vcsdk.verify.batch.presumed`); a rejection is the key's own."""
    if type(key) is Ed25519PublicKey:
        proven = BATCH_VERIFIED.get()
        if proven is not None and (key.raw, message, signature) in proven:
            return
        if LIB.vl_verify(signature, len(signature), message, len(message), key.raw, 32) == 0:
            return
    key.verify(message, signature)


__all__ = ["NativeLane", "Parts", "claims_from_slots", "python_texts", "verify_candidates", "verify_key"]
