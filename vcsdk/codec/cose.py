"""COSE_Sign1 (RFC 9052 section 4.2) decoding and encoding.

The decoder keeps the protected-header bytes exactly as received: the signature is checked over
them, never over a re-encoding. Header rules enforced here (``COSE_MALFORMED`` otherwise):

* the message is a 4-element array ``[bstr protected, map unprotected, bstr payload, bstr sig]``,
  tagged 18 unless the caller accepts untagged messages (the official profile does not);
* the protected bstr is empty or one strict CBOR map; labels are integers or text;
* no label in both buckets (RFC 9052 section 3);
* ``crit`` (2) only in the protected bucket, a non-empty array of labels each present in the
  protected bucket and understood here;
* ``alg`` is an int or text, ``kid`` a bstr, content type a uint or text.

A detached (nil) payload is refused: credentials carry their payload.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import cbor2

from ..errors import COSEMalformed
from ..limits import Limits
from .cbor import ARRAY_TYPES, MAP_TYPES, TAG_COSE_SIGN1, dumps, loads_strict

HEADER_ALG = 1
HEADER_CRIT = 2
HEADER_CONTENT_TYPE = 3
HEADER_KID = 4
HEADER_TYP = 16  # RFC 9596

UNDERSTOOD_LABELS = frozenset({HEADER_ALG, HEADER_CRIT, HEADER_CONTENT_TYPE, HEADER_KID, HEADER_TYP})

_NO_TAGS: frozenset[int] = frozenset()
_SIGN1_TAGS = frozenset({TAG_COSE_SIGN1})


@dataclass(frozen=True, slots=True)
class Sign1:
    """A decoded COSE_Sign1 message. ``protected_bytes`` are exactly as received."""

    protected_bytes: bytes
    protected: Mapping[Any, Any]
    unprotected: Mapping[Any, Any]
    payload: bytes
    signature: bytes
    tagged: bool = True

    @property
    def alg(self) -> int | str | None:
        """``alg`` from the protected bucket only (an unprotected alg is never used)."""
        return self.protected.get(HEADER_ALG)

    @property
    def kid(self) -> bytes | None:
        """``kid``: protected wins; otherwise the unprotected one; None if neither has it."""
        kid = self.protected.get(HEADER_KID)
        if kid is None:
            kid = self.unprotected.get(HEADER_KID)
        return kid

    def to_be_signed(self, external_aad: bytes = b"") -> bytes:
        """The Sig_structure bytes the signature covers.

        The protected bytes go in exactly as received, except that a header with no parameters
        (even if sent as ``h'a0'``) is signed as a zero-length bstr (RFC 9052 section 4.4).
        """
        return sig_structure(self.protected_bytes if self.protected else b"", self.payload, external_aad)


def _bstr_head(length: int) -> bytes:
    if length < 24:
        return bytes((0x40 | length,))
    if length < 0x100:
        return bytes((0x58, length))
    if length < 0x10000:
        return b"\x59" + length.to_bytes(2, "big")
    if length < 0x100000000:
        return b"\x5a" + length.to_bytes(4, "big")
    return b"\x5b" + length.to_bytes(8, "big")


_SIG1_PREFIX = b"\x84\x6aSignature1"


def sig_structure(protected_bytes: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """``["Signature1", protected, external_aad, payload]`` built without re-encoding headers."""
    return b"".join(
        (
            _SIG1_PREFIX,
            _bstr_head(len(protected_bytes)),
            protected_bytes,
            _bstr_head(len(external_aad)),
            external_aad,
            _bstr_head(len(payload)),
            payload,
        )
    )


def _check_labels(header: Mapping[Any, Any], bucket: str) -> None:
    for label in header:
        if isinstance(label, bool) or not isinstance(label, (int, str)):
            raise COSEMalformed(f"{bucket} header label {label!r} is not an integer or text")


def _check_header_values(header: Mapping[Any, Any], bucket: str) -> None:
    alg = header.get(HEADER_ALG)
    if alg is not None and (isinstance(alg, bool) or not isinstance(alg, (int, str))):
        raise COSEMalformed(f"{bucket} alg must be an integer or text")
    kid = header.get(HEADER_KID)
    if HEADER_KID in header and not isinstance(kid, bytes):
        raise COSEMalformed(f"{bucket} kid must be a byte string")
    ctype = header.get(HEADER_CONTENT_TYPE)
    if HEADER_CONTENT_TYPE in header and not (
        isinstance(ctype, str) or (isinstance(ctype, int) and not isinstance(ctype, bool) and ctype >= 0)
    ):
        raise COSEMalformed(f"{bucket} content type must be a uint or text")


def _check_crit(protected: Mapping[Any, Any], unprotected: Mapping[Any, Any]) -> None:
    if HEADER_CRIT in unprotected:
        raise COSEMalformed("crit must be in the protected header")
    if HEADER_CRIT not in protected:
        return
    crit = protected[HEADER_CRIT]
    if not isinstance(crit, ARRAY_TYPES) or not crit:
        raise COSEMalformed("crit must be a non-empty array of labels")
    for label in crit:
        if isinstance(label, bool) or not isinstance(label, (int, str)):
            raise COSEMalformed("crit labels must be integers or text")
        if label not in protected:
            raise COSEMalformed(f"crit names label {label!r} absent from the protected header")
        if label not in UNDERSTOOD_LABELS:
            raise COSEMalformed(f"crit names label {label!r}, which this verifier does not understand")


def decode_protected(protected_bytes: bytes, limits: Limits) -> Mapping[Any, Any]:
    """Decode the protected-header bstr: empty means an empty map."""
    if not protected_bytes:
        return {}
    header = loads_strict(protected_bytes, limits, _NO_TAGS)
    if not isinstance(header, MAP_TYPES):
        raise COSEMalformed("protected header is not a map")
    return header


def from_cbor_value(
    value: Any, limits: Limits, *, require_tag: bool = True, shared_labels: frozenset[int] = frozenset()
) -> Sign1:
    """Build a :class:`Sign1` from the already strictly decoded outer CBOR value."""
    tagged = isinstance(value, cbor2.CBORTag)
    if tagged:
        if value.tag != TAG_COSE_SIGN1:
            raise COSEMalformed(f"CBOR tag {value.tag} is not COSE_Sign1 (18)")
        value = value.value
    elif require_tag:
        raise COSEMalformed("COSE_Sign1 tag 18 is missing")
    if not isinstance(value, ARRAY_TYPES) or len(value) != 4:
        raise COSEMalformed("COSE_Sign1 must be an array of 4 elements")
    protected_bytes, unprotected, payload, signature = value
    if not isinstance(protected_bytes, bytes):
        raise COSEMalformed("protected header must be a byte string")
    if not isinstance(unprotected, MAP_TYPES):
        raise COSEMalformed("unprotected header must be a map")
    if payload is None:
        raise COSEMalformed("detached payloads are not supported")
    if not isinstance(payload, bytes):
        raise COSEMalformed("payload must be a byte string")
    if not isinstance(signature, bytes):
        raise COSEMalformed("signature must be a byte string")
    protected = decode_protected(protected_bytes, limits)
    _check_labels(protected, "protected")
    _check_labels(unprotected, "unprotected")
    both = (protected.keys() & unprotected.keys()) - shared_labels
    if both:
        raise COSEMalformed(f"header label(s) {sorted(map(str, both))} in both buckets")
    _check_header_values(protected, "protected")
    _check_header_values(unprotected, "unprotected")
    _check_crit(protected, unprotected)
    return Sign1(protected_bytes, protected, unprotected, payload, signature, tagged)


def _leading_tag(data: bytes) -> int | None:
    """The tag number the data item starts with, or None if it does not start with a tag."""
    if not data or data[0] >> 5 != 6:
        return None
    info = data[0] & 0x1F
    if info < 24:
        return info
    size = {24: 1, 25: 2, 26: 4, 27: 8}.get(info)
    if size is None or len(data) < 1 + size:
        return -1  # malformed head: let the CBOR decoder name the problem
    return int.from_bytes(data[1 : 1 + size], "big")


def decode_sign1(
    data: bytes, limits: Limits, *, require_tag: bool = True, shared_labels: frozenset[int] = frozenset()
) -> Sign1:
    """Strictly decode a COSE_Sign1 message from bytes.

    A message tagged with anything but 18 is ``COSE_MALFORMED`` (not a CBOR error): the outer
    tag names the COSE structure. ``shared_labels`` may appear in both buckets (the protected
    value wins); by default none may (RFC 9052 section 3).
    """
    tag = _leading_tag(data)
    if tag is not None and tag not in (-1, TAG_COSE_SIGN1):
        raise COSEMalformed(f"CBOR tag {tag} is not COSE_Sign1 (18)")
    value = loads_strict(data, limits, _SIGN1_TAGS)
    return from_cbor_value(value, limits, require_tag=require_tag, shared_labels=shared_labels)


def encode_protected(header: Mapping[Any, Any]) -> bytes:
    """Protected-header bytes: a zero-length bstr for an empty header (RFC 9052 section 3)."""
    return dumps(dict(header)) if header else b""


def sign1(
    payload: bytes,
    protected: Mapping[Any, Any],
    sign: Callable[[bytes], bytes],
    *,
    unprotected: Mapping[Any, Any] | None = None,
    external_aad: bytes = b"",
    tagged: bool = True,
) -> bytes:
    """Build and sign a COSE_Sign1 message; ``sign`` maps Sig_structure bytes to a signature."""
    protected_bytes = encode_protected(protected)
    return encode_sign1(
        protected_bytes,
        dict(unprotected or {}),
        payload,
        sign(sig_structure(protected_bytes, payload, external_aad)),
        tagged=tagged,
    )


def encode_sign1(
    protected_bytes: bytes,
    unprotected: Mapping[Any, Any],
    payload: bytes,
    signature: bytes,
    *,
    tagged: bool = True,
) -> bytes:
    """Serialise the four parts, the protected bytes verbatim."""
    body = [protected_bytes, dict(unprotected), payload, signature]
    return dumps(cbor2.CBORTag(TAG_COSE_SIGN1, body) if tagged else body)
