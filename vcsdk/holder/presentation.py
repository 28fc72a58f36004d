"""Presentations (``GIDP1:``): the phone's device key signs the exact issuer credential, the time
and, in challenge mode, the gate's nonce and id. A screenshot of one is stale within seconds.

Wire format::

    "GIDP1:" + Base45( zlib( COSE_Sign1 ) )

The COSE_Sign1 is tagged (18) and signed with the device key (Ed25519): protected header exactly
``{1: -8}`` (no kid: the key is the credential's ``cnf``), unprotected header empty, payload the
deterministic CBOR map::

    {1: credential (bstr: the issuer's tagged COSE_Sign1 bytes exactly as issued, not compressed),
     2: presentation time (uint, Unix seconds),
     3: challenge nonce (bstr, 16 bytes; challenge mode only),
     4: gate id (tstr, 1..64 chars; challenge mode only)}

Keys 3 and 4 come together or not at all; unknown keys are refused. This module builds and parses
presentations (pure); :mod:`vcsdk.verify.presentation` verifies them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..codec import cbor, cose, qrtext
from ..codec.cbor import MAP_TYPES
from ..codec.cwt import is_int
from ..errors import ClaimsInvalid, COSEMalformed, UnsupportedAlgorithm, UsageError
from ..keys import ALG_EDDSA, Ed25519PrivateKey
from ..limits import DEFAULT_LIMITS, Limits
from ..profiles.base import OFFICIAL_ID
from .challenge import MAX_GATE_ID_CHARS, NONCE_BYTES, Challenge

PRESENTATION_PREFIX = "GIDP1:"
PRESENTATION_BUDGET_CHARS = 823
"""The reference ID's presentation with a challenge fits QR version 22 at ECC Q (823 characters)."""
PRESENTATION_QR_VERSION = 22

KEY_CREDENTIAL, KEY_TIME, KEY_NONCE, KEY_GATE = 1, 2, 3, 4
_KEYS = frozenset({KEY_CREDENTIAL, KEY_TIME, KEY_NONCE, KEY_GATE})
_PROTECTED = {cose.HEADER_ALG: ALG_EDDSA}


@dataclass(frozen=True, slots=True)
class Presentation:
    """A parsed, not yet verified presentation."""

    credential: bytes
    """The issuer credential's tagged COSE_Sign1 bytes, exactly as carried."""
    presented_at: int
    nonce: bytes | None
    gate_id: str | None
    to_be_signed: bytes
    """The Sig_structure bytes the device signature covers."""
    signature: bytes

    @property
    def challenged(self) -> bool:
        """True in challenge mode (the presentation answers a gate's nonce)."""
        return self.nonce is not None


def credential_bytes(credential: str | bytes) -> bytes:
    """The issuer's COSE bytes from a ``GID1:`` QR text, or the bytes themselves."""
    if isinstance(credential, bytes):
        return credential
    if isinstance(credential, str):
        return qrtext.unpack(credential, OFFICIAL_ID.prefix, DEFAULT_LIMITS)
    raise UsageError("a credential is a GID1: QR text or its COSE_Sign1 bytes")


def present(
    credential: str | bytes,
    device_key: Ed25519PrivateKey,
    *,
    now: int,
    challenge: Challenge | None = None,
) -> str:
    """Sign a presentation of ``credential`` (QR text or COSE bytes) at ``now``; answer
    ``challenge`` when given. Returns the ``GIDP1:`` QR text."""
    if not isinstance(device_key, Ed25519PrivateKey):
        raise UsageError("a presentation is signed with the Ed25519 device key")
    if not is_int(now) or now < 0:
        raise UsageError("now must be non-negative integer Unix seconds")
    payload: dict[int, Any] = {KEY_CREDENTIAL: credential_bytes(credential), KEY_TIME: now}
    if challenge is not None:
        if not isinstance(challenge, Challenge):
            raise UsageError("challenge must be a Challenge (decode_challenge parses a GIDC1: text)")
        payload[KEY_NONCE] = challenge.nonce
        payload[KEY_GATE] = challenge.gate_id
    message = cose.sign1(cbor.dumps(payload), _PROTECTED, device_key.sign)
    return qrtext.pack(message, PRESENTATION_PREFIX)


def decode_presentation(text: str, limits: Limits = DEFAULT_LIMITS) -> Presentation:
    """Parse the outer layers of a presentation in DESIGN order.

    ``LIMIT_EXCEEDED``, ``INVALID_SCHEME_PREFIX``, ``BASE45_DECODING_FAILED``,
    ``DECOMPRESSION_FAILED``, ``CBOR_MALFORMED``, ``COSE_MALFORMED`` (structure, extra header
    parameters), ``UNSUPPORTED_ALGORITHM`` (alg not -8), ``CLAIMS_INVALID`` (payload shape).
    """
    message = cose.decode_sign1(qrtext.unpack(text, PRESENTATION_PREFIX, limits), limits)
    alg = message.alg
    if alg != ALG_EDDSA:
        raise UnsupportedAlgorithm("a presentation is signed with EdDSA (alg -8 in the protected header)")
    if dict(message.protected) != _PROTECTED or message.unprotected:
        raise COSEMalformed("a presentation's protected header is exactly {1: -8} and its unprotected one empty")
    payload = cbor.loads_strict(message.payload, limits, frozenset())
    if not isinstance(payload, MAP_TYPES):
        raise ClaimsInvalid("the presentation payload must be a map")
    keys = set(payload)
    if (
        not cbor.int_keyed(payload)  # true and 1.0 compare equal to 1 in Python: not CBOR integer keys
        or not keys <= _KEYS
        or not {KEY_CREDENTIAL, KEY_TIME} <= keys
        or (KEY_NONCE in keys) != (KEY_GATE in keys)
    ):
        raise ClaimsInvalid("a presentation is {1: credential, 2: time} plus, together, {3: nonce, 4: gate id}")
    inner, when = payload[KEY_CREDENTIAL], payload[KEY_TIME]
    if type(inner) is not bytes or not inner:
        raise ClaimsInvalid("the presented credential must be a non-empty bstr")
    if not is_int(when) or when < 0:
        raise ClaimsInvalid("the presentation time must be unsigned integer Unix seconds")
    nonce, gate = payload.get(KEY_NONCE), payload.get(KEY_GATE)
    if KEY_NONCE in keys and (type(nonce) is not bytes or len(nonce) != NONCE_BYTES):  # null is no nonce
        raise ClaimsInvalid(f"the challenge nonce must be {NONCE_BYTES} bytes")
    if KEY_GATE in keys and (not isinstance(gate, str) or not 1 <= len(gate) <= MAX_GATE_ID_CHARS):
        raise ClaimsInvalid(f"the gate id must be text of 1 to {MAX_GATE_ID_CHARS} characters")
    return Presentation(inner, when, nonce, gate, message.to_be_signed(), message.signature)
