"""Shared by every key module: COSE algorithm ids, COSE_Key labels, kids, base64url and the
:class:`PublicKey` protocol (the key decides the algorithm, go-cose's habit)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Protocol, runtime_checkable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from ..errors import (
    KeyInvalid,
)

# COSE algorithm identifiers (IANA "COSE Algorithms")
ALG_EDDSA = -8
ALG_ES256 = -7
ALG_ES384 = -35
ALG_ES512 = -36
ALG_PS256 = -37

ALGORITHM_NAMES: dict[int, str] = {
    ALG_EDDSA: "EdDSA",
    ALG_ES256: "ES256",
    ALG_ES384: "ES384",
    ALG_ES512: "ES512",
    ALG_PS256: "PS256",
}

# COSE_Key labels and values (RFC 9052 section 7, RFC 9053 section 7)
_KTY, _KID, _ALG = 1, 2, 3
_CRV, _X, _Y, _D = -1, -2, -3, -4
_KTY_OKP, _KTY_EC2 = 1, 2
_CRV_ED25519 = 6

_EC_CURVES: dict[str, tuple[int, ec.EllipticCurve, int, hashes.HashAlgorithm]] = {
    # JWK name: (COSE crv, curve, COSE alg, hash)
    "P-256": (1, ec.SECP256R1(), ALG_ES256, hashes.SHA256()),
    "P-384": (2, ec.SECP384R1(), ALG_ES384, hashes.SHA384()),
    "P-521": (3, ec.SECP521R1(), ALG_ES512, hashes.SHA512()),
}
_EC_BY_COSE_CRV = {v[0]: k for k, v in _EC_CURVES.items()}
_EC_HASHES: dict[int, hashes.HashAlgorithm] = {v[2]: v[3] for v in _EC_CURVES.values()}


def kid_for(raw_public_key: bytes) -> bytes:
    """The official-ID kid: the first 8 bytes of SHA-256 over the raw public key."""
    return hashlib.sha256(raw_public_key).digest()[:8]


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 appendix C)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: object, what: str) -> bytes:
    """Decode unpadded base64url; raise :class:`KeyInvalid` naming ``what`` on failure."""
    if not isinstance(text, str) or "=" in text:
        raise KeyInvalid(f"{what} must be unpadded base64url text")
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise KeyInvalid(f"{what} is not valid base64url") from None
    # urlsafe_b64decode skips characters outside the alphabet and accepts "+", "/" and non-zero
    # padding bits: only the one canonical spelling of the bytes is base64url.
    if b64url_encode(decoded) != text:
        raise KeyInvalid(f"{what} is not canonical unpadded base64url")
    return decoded


@runtime_checkable
class PublicKey(Protocol):
    """A verification key bound to one COSE algorithm."""

    @property
    def alg(self) -> int: ...

    @property
    def kid(self) -> bytes: ...

    def verify(self, message: bytes, signature: bytes) -> None:
        """Return if ``signature`` is valid over ``message``; else raise SignatureInvalid."""
        ...

    def to_jwk(self) -> dict[str, str]: ...

    def to_cose_key(self) -> dict[int, Any]: ...
