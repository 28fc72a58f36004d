"""Proof of possession of a holder's device key, for issuance of a bound credential.

Before an issuer writes a device key into a credential's ``cnf`` claim, the holder proves that it
holds the key by signing a fresh nonce the issuer handed out. The proof follows the ``cwt`` key
proof of OpenID for Verifiable Credential Issuance (proof type ``"cwt"``):

* a tagged COSE_Sign1 (tag 18), signed with the device key (Ed25519, ``alg`` -8);
* protected header ``{1: -8, 3: "openid4vci-proof+cwt", "COSE_Key": <the device public key as an
  OKP COSE_Key {1: 1, -1: 6, -2: x}>}``; unprotected header empty;
* payload: a CWT claims map ``{3: aud (the credential issuer identifier, text), 6: iat (integer
  Unix seconds), 10: nonce (text, the issuer's ``c_nonce``)}``; no other keys.

The issuer checks the signature with the key in the header, the audience, that ``iat`` is within
``max_age`` seconds (either way, plus leeway), and that the key is a valid Ed25519 point that is
not of small order. Whether the nonce is one it issued and has not yet been used is the caller's
check (a nonce store), done with :attr:`KeyProof.nonce`.

Pure: bytes and ``now`` in, a :class:`KeyProof` or one :class:`~vcsdk.errors.KeyProofInvalid` out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import nacl.bindings

from ..codec import cbor, cose
from ..codec.cbor import MAP_TYPES
from ..codec.cwt import is_int
from ..errors import KeyProofInvalid, UsageError, VCError
from ..keys import ALG_EDDSA, Ed25519PrivateKey, Ed25519PublicKey
from ..limits import DEFAULT_LIMITS, Limits

PROOF_TYPE = "cwt"
"""The OpenID4VCI ``proof_type`` of this proof."""
PROOF_CONTENT_TYPE = "openid4vci-proof+cwt"
"""The protected ``content type`` (label 3) of this proof."""
COSE_KEY_LABEL = "COSE_Key"
"""The protected header label carrying the device public key."""
CLAIM_AUD, CLAIM_IAT, CLAIM_NONCE = 3, 6, 10
DEFAULT_MAX_AGE_SECONDS = 300
"""How far a proof's ``iat`` may lie from the issuer's clock (each way, before leeway)."""
MAX_NONCE_CHARS = 128
MAX_PROOF_BYTES = 1024


@dataclass(frozen=True, slots=True)
class KeyProof:
    """A verified proof: the device key it proves, and what it was bound to."""

    device_key: Ed25519PublicKey
    audience: str
    nonce: str
    issued_at: int


def check_device_key(key: Ed25519PublicKey) -> None:
    """Refuse an Ed25519 public key that is not a valid point of the prime-order subgroup
    (small-order and non-canonical encodings included): such a key would let anyone sign."""
    if not nacl.bindings.crypto_core_ed25519_is_valid_point(key.raw):
        raise KeyProofInvalid("the device key is not a valid Ed25519 public key (small order or off the curve)")


_P = 2**255 - 19
_SMALL_ORDER_Y = frozenset(
    {
        0,  # order 4
        1,  # the identity
        _P - 1,  # order 2
        0x05FC536D880238B13933C6D305ACDFD5F098EFF289F4C345B027B2C28F95E826,  # order 8
        0x7A03AC9277FDC74EC6CC392CFA53202A0F67100D760B3CBA4FD84D3D706A17C7,  # order 8
    }
)
"""The y coordinates of the eight points of small order (a point's encoding is y plus a sign bit)."""


def check_device_key_encoding(key: Ed25519PublicKey) -> None:
    """The cheap check a verifier runs on every ``cnf`` key: a canonical encoding (y < p) that is
    not one of the eight small-order points, each of which would let anyone sign.

    The full prime-order-subgroup check (:func:`check_device_key`, about 30 us) runs once, when
    the issuer binds the key; a verifier trusts what the issuer signed. A key that passes this
    check but is off the curve can make no signature verify (``DEVICE_SIGNATURE_INVALID``).
    """
    y = int.from_bytes(key.raw, "little") & ((1 << 255) - 1)
    if y >= _P or y in _SMALL_ORDER_Y:
        raise KeyProofInvalid("the device key is not a valid Ed25519 public key (small order or non-canonical)")


def make_key_proof(device_key: Ed25519PrivateKey, *, audience: str, nonce: str, issued_at: int) -> bytes:
    """Sign a key proof with the device key (the wallet side)."""
    if not isinstance(audience, str) or not audience:
        raise UsageError("audience (the credential issuer identifier) must be non-empty text")
    if not isinstance(nonce, str) or not nonce or len(nonce) > MAX_NONCE_CHARS:
        raise UsageError(f"nonce must be text of 1 to {MAX_NONCE_CHARS} characters")
    if not is_int(issued_at) or issued_at < 0:
        raise UsageError("issued_at must be non-negative integer Unix seconds")
    protected = {
        cose.HEADER_ALG: ALG_EDDSA,
        cose.HEADER_CONTENT_TYPE: PROOF_CONTENT_TYPE,
        COSE_KEY_LABEL: _cose_key(device_key.public_key),
    }
    payload = cbor.dumps({CLAIM_AUD: audience, CLAIM_IAT: issued_at, CLAIM_NONCE: nonce})
    return cose.sign1(payload, protected, device_key.sign)


def verify_key_proof(
    proof: bytes,
    *,
    audience: str,
    now: int,
    max_age: int = DEFAULT_MAX_AGE_SECONDS,
    leeway: int = 60,
    limits: Limits = DEFAULT_LIMITS,
) -> KeyProof:
    """Verify a key proof (the issuer side); the caller then consumes :attr:`KeyProof.nonce`."""
    if not isinstance(proof, bytes) or len(proof) > MAX_PROOF_BYTES:
        raise KeyProofInvalid(f"a key proof is at most {MAX_PROOF_BYTES} bytes of COSE_Sign1")
    try:
        message = cose.decode_sign1(proof, limits)
    except VCError as exc:
        raise KeyProofInvalid(f"not a COSE_Sign1 key proof ({exc.code}: {exc.message})") from None
    header = message.protected
    if header.get(cose.HEADER_ALG) != ALG_EDDSA or message.unprotected:
        raise KeyProofInvalid("a key proof is signed with EdDSA (alg -8 in the protected header), nothing unprotected")
    if header.get(cose.HEADER_CONTENT_TYPE) != PROOF_CONTENT_TYPE:
        raise KeyProofInvalid(f"the protected content type is not {PROOF_CONTENT_TYPE!r}")
    key = _device_key(header.get(COSE_KEY_LABEL))
    try:
        key.verify(message.to_be_signed(), message.signature)
    except VCError:
        raise KeyProofInvalid("the key proof is not signed by the key it carries") from None
    claims = _claims(message.payload, limits)
    if claims[CLAIM_AUD] != audience:
        raise KeyProofInvalid("the key proof is for another credential issuer (aud)")
    iat = claims[CLAIM_IAT]
    if abs(iat - now) > max_age + leeway:
        raise KeyProofInvalid("the key proof is stale or from the future (iat)")
    return KeyProof(device_key=key, audience=audience, nonce=claims[CLAIM_NONCE], issued_at=iat)


def _cose_key(key: Ed25519PublicKey) -> dict[int, Any]:
    return {1: 1, -1: 6, -2: key.raw}


def _device_key(value: Any) -> Ed25519PublicKey:
    if not isinstance(value, MAP_TYPES) or set(value) - {1, -1, -2, 2, 3} or not value:
        raise KeyProofInvalid("the protected COSE_Key is missing or has unknown labels")
    if value.get(1) != 1 or value.get(-1) != 6 or value.get(3, ALG_EDDSA) != ALG_EDDSA:
        raise KeyProofInvalid("the device key is not an OKP Ed25519 COSE_Key")
    raw = value.get(-2)
    if not isinstance(raw, bytes) or len(raw) != 32:
        raise KeyProofInvalid("the device key x is not 32 bytes")
    key = Ed25519PublicKey(raw)
    check_device_key(key)
    return key


def _claims(payload: bytes, limits: Limits) -> dict[int, Any]:
    try:
        claims = cbor.loads_strict(payload, limits)
    except VCError as exc:
        raise KeyProofInvalid(f"key proof payload is not strict CBOR ({exc.message})") from None
    if not isinstance(claims, MAP_TYPES) or set(claims) != {CLAIM_AUD, CLAIM_IAT, CLAIM_NONCE}:
        raise KeyProofInvalid("key proof claims must be exactly {3: aud, 6: iat, 10: nonce}")
    if not isinstance(claims[CLAIM_AUD], str) or not is_int(claims[CLAIM_IAT]):
        raise KeyProofInvalid("key proof aud must be text and iat an integer")
    nonce = claims[CLAIM_NONCE]
    if not isinstance(nonce, str) or not nonce or len(nonce) > MAX_NONCE_CHARS:
        raise KeyProofInvalid(f"key proof nonce must be text of 1 to {MAX_NONCE_CHARS} characters")
    return dict(claims)
