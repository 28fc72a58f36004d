"""The gate-speed verify path: same verdicts as :class:`Verifier`, less work per scan.

Two mechanisms, both tested to agree with the reference path on every valid and invalid case:

* **A fast lane for well-formed credentials.** The exact shape our issuers emit
  (``d2 84 | bstr protected | a0 | bstr payload | bstr signature``, protected header
  ``{1: -8, 4: kid}`` in canonical form) is recognised by slicing bytes instead of a general
  CBOR decode; keys are pre-parsed and found by kid in a dict; the payload is decoded strictly
  with one reused decoder. **Anything unusual or failing falls back to the reference
  verifier**, which then decides the verdict and its code, so the fast lane can only ever
  accept what the reference path accepts, by the same checks.
* **A repeat-scan cache** (bounded LRU, keyed by the QR text, which fixes the signed bytes): a
  hit skips decoding and the signature but re-checks time and status on every scan. The cache
  belongs to one verifier and its trust store: new trust means a new verifier (or
  :meth:`clear_cache`).
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import cbor2

from ..codec import base45, deflate
from ..codec.cbor import TAG_EPOCH_DAYS, _hooks
from ..errors import CredentialInvalid, SignatureInvalid, UsageError
from ..keys import ALG_EDDSA
from ..trust.store import KeyState
from .result import Verification, VerifiedCredential
from .verifier import Verifier, _Claims, _parse_claims

_PROTECTED_HEAD = b"\xa2\x01\x27\x04\x48"  # {1: -8, 4: h'<8 bytes>'} in canonical form
_SIG1_HEAD = b"\x84\x6aSignature1\x4d"  # ["Signature1", then the 13-byte protected bstr
DEFAULT_CACHE_SIZE = 4096


def _bstr(data: bytes, pos: int) -> tuple[bytes, int] | None:
    """A definite byte string at ``pos`` (lengths up to 65535), or None."""
    if pos >= len(data):
        return None
    head = data[pos]
    if 0x40 <= head <= 0x57:
        start, length = pos + 1, head - 0x40
    elif head == 0x58 and pos + 1 < len(data):
        start, length = pos + 2, data[pos + 1]
    elif head == 0x59 and pos + 2 < len(data):
        start, length = pos + 3, (data[pos + 1] << 8) | data[pos + 2]
    else:
        return None
    end = start + length
    return (data[start:end], end) if end <= len(data) else None


def split_sign1(data: bytes) -> tuple[bytes, bytes, bytes] | None:
    """(protected, payload, signature) when ``data`` has exactly the issuer's canonical shape."""
    if data[:2] != b"\xd2\x84":
        return None
    part = _bstr(data, 2)
    if part is None:
        return None
    protected, pos = part
    if pos >= len(data) or data[pos] != 0xA0:
        return None
    part = _bstr(data, pos + 1)
    if part is None:
        return None
    payload, pos = part
    part = _bstr(data, pos)
    if part is None:
        return None
    signature, pos = part
    return (protected, payload, signature) if pos == len(data) else None


def _plain(entry: Any) -> bool:
    """An active or retired key without a validity window."""
    return entry.state is not KeyState.COMPROMISED and entry.not_before is None and entry.not_after is None


class _Fallback(Exception):
    """Leave the fast lane: the reference verifier decides."""


class FastVerifier:
    """Wraps a configured :class:`Verifier`: same results and codes, less work per scan.

    >>> gate = FastVerifier(Verifier(trust, status=checker))  # doctest: +SKIP
    """

    def __init__(self, reference: Verifier, *, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        if not isinstance(reference, Verifier):
            raise UsageError("FastVerifier wraps a configured Verifier")
        if type(cache_size) is not int or cache_size < 0:
            raise UsageError("cache_size must be a non-negative integer")
        self.reference = reference
        self._prefix = reference._profile.prefix
        self._limits = reference._limits
        self._clock = reference._clock
        self._fast_profile = ALG_EDDSA in reference._profile.algorithms and not reference._profile.kid_in_both_buckets
        # Per kid: the EdDSA keys the fast lane may use. A kid with a compromised key or a key
        # with a validity window is left to the reference path (rare, and it has the rules).
        grouped: dict[bytes, tuple[Any, ...]] = {}
        for entry in reference.trust:
            if entry.key.alg == ALG_EDDSA:
                grouped[entry.kid] = (*grouped.get(entry.kid, ()), entry)
        self._keys = {kid: entries for kid, entries in grouped.items() if all(_plain(e) for e in entries)}
        semantic, tag_hook = _hooks(frozenset({TAG_EPOCH_DAYS}))
        self._decoder = cbor2.CBORDecoder(
            io.BytesIO(b""),
            tag_hook=tag_hook,
            semantic_decoders=semantic,
            max_depth=self._limits.max_cbor_depth,
            allow_indefinite=False,
            allow_duplicate_keys=False,
        )
        self._cache: OrderedDict[str, tuple[VerifiedCredential, _Claims]] = OrderedDict()
        self._cache_size = cache_size

    def clear_cache(self) -> None:
        """Forget every cached credential."""
        self._cache.clear()

    # ------------------------------------------------------------------ API

    def verify(self, text: str | bytes) -> VerifiedCredential:
        """Verify at the clock's time; raise the failure's :class:`CredentialInvalid`."""
        return self.verify_at(text, self._clock())

    def verify_at(self, text: str | bytes, now: int) -> VerifiedCredential:
        """Verify as of ``now``."""
        if type(text) is not str:
            return self.reference.verify_at(text, now)
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            return self._recheck(cached, now, text)
        try:
            credential, claims = self._fast(text, now)
        except _Fallback:
            return self.reference.verify_at(text, now)
        if self._cache_size:
            self._cache[text] = (credential, claims)
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return credential

    def check(self, text: str | bytes, now: int | None = None) -> Verification:
        """Like :meth:`verify` but returns a :class:`Verification`."""
        when = self._clock() if now is None else now
        try:
            credential = self.verify_at(text, when)
        except CredentialInvalid:
            return self.reference.check(text, when)  # the reference path names the failure
        return Verification(True, credential.code, "credential is valid", credential.kid, credential)

    def verify_many(self, texts: Iterable[str | bytes], now: int | None = None) -> list[Verification]:
        """:meth:`check` over many texts at one time (batch API)."""
        when = self._clock() if now is None else now
        return [self.check(text, when) for text in texts]

    # ------------------------------------------------------------------ internals

    def _recheck(self, cached: tuple[VerifiedCredential, _Claims], now: int, text: str) -> VerifiedCredential:
        credential, claims = cached
        reference = self.reference
        try:
            reference._check_times(claims, now)
            status_check = reference._check_status(claims.status, now)
        except CredentialInvalid:
            self._cache.pop(text, None)
            raise
        issued = None if status_check is None else status_check.list_issued_at
        age = None if issued is None else now - issued
        if status_check is credential.status_check and age == credential.status_list_age:
            return credential
        return replace(credential, status_check=status_check, status_list_age=age)

    def _fast(self, text: str, now: int) -> tuple[VerifiedCredential, _Claims]:
        if not self._fast_profile or len(text) > self._limits.max_text_chars or not text.startswith(self._prefix):
            raise _Fallback
        try:
            data = deflate.decompress(base45.b45decode(text[len(self._prefix) :]), self._limits.max_inflated_bytes)
        except CredentialInvalid:
            raise _Fallback from None
        parts = split_sign1(data)
        if parts is None:
            raise _Fallback
        protected, payload, signature = parts
        if len(protected) != 13 or protected[:5] != _PROTECTED_HEAD:
            raise _Fallback
        kid = protected[5:]
        candidates = self._keys.get(kid)
        if not candidates:
            raise _Fallback
        claims_map = self._decode_payload(payload)
        to_be_signed = b"".join((_SIG1_HEAD, protected, b"\x40", _bstr_head(len(payload)), payload))
        signer = None
        for candidate in candidates:
            try:
                candidate.key.verify(to_be_signed, signature)
            except SignatureInvalid:
                continue
            signer = candidate
            break
        if signer is None:
            raise _Fallback
        reference = self.reference
        try:
            claims = _parse_claims(claims_map)
            if signer.issuer is not None and claims.iss != signer.issuer:
                raise _Fallback
            reference._check_times(claims, now)
            status_check = reference._check_status(claims.status, now)
        except CredentialInvalid:
            raise _Fallback from None
        issued = None if status_check is None else status_check.list_issued_at
        credential = VerifiedCredential(
            reference._profile.name,
            kid,
            claims.iss,
            claims.cti,
            claims.iat,
            claims.nbf,
            claims.exp,
            claims.official,
            claims.status,
            status_check,
            None if issued is None else now - issued,
            claims.cnf,
            signer.source,
        )
        return credential, claims

    def _decode_payload(self, payload: bytes) -> Any:
        if len(payload) > self._limits.max_cbor_items:
            raise _Fallback  # the item budget needs the reference walk
        stream = io.BytesIO(payload)
        self._decoder.fp = stream
        try:
            value = self._decoder.decode()
        except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, LookupError, RecursionError, MemoryError):
            raise _Fallback from None
        if stream.tell() != len(payload):
            raise _Fallback
        return value


def _bstr_head(length: int) -> bytes:
    if length < 24:
        return bytes((0x40 | length,))
    if length < 0x100:
        return bytes((0x58, length))
    return b"\x59" + length.to_bytes(2, "big")


__all__ = ["FastVerifier", "split_sign1"]
