"""ECDSA public keys (ES256/384/512, COSE raw ``r || s`` signatures) through ``cryptography``,
for interop; JWK (RFC 7518 EC) and EC2 COSE_Key forms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ..errors import KeyInvalid, SignatureInvalid
from .base import (
    _ALG,
    _CRV,
    _EC_BY_COSE_CRV,
    _EC_CURVES,
    _EC_HASHES,
    _KID,
    _KTY,
    _KTY_EC2,
    _X,
    _Y,
    ALGORITHM_NAMES,
    b64url_decode,
    b64url_encode,
)


@dataclass(frozen=True, slots=True)
class ECPublicKey:
    """An ECDSA public key (P-256/384/521) verifying COSE raw ``r || s`` signatures.

    ``kid`` is whatever the trust source says (COSE does not derive it for EC keys).
    """

    crv: str
    x: bytes
    y: bytes
    kid: bytes = b""
    algorithm: int | None = None
    """The COSE alg this key verifies; None means the curve's own (ES256 for P-256, ...)."""
    _key: ec.EllipticCurvePublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.crv not in _EC_CURVES:
            raise KeyInvalid(f"unsupported EC curve {self.crv!r}")
        curve = _EC_CURVES[self.crv][1]
        size = (curve.key_size + 7) // 8
        if len(self.x) != size or len(self.y) != size:
            raise KeyInvalid(f"{self.crv} coordinates are {size} bytes each")
        try:
            key = ec.EllipticCurvePublicNumbers(
                int.from_bytes(self.x, "big"), int.from_bytes(self.y, "big"), curve
            ).public_key()
        except ValueError:
            raise KeyInvalid("the point is not on the curve") from None
        if self.algorithm is not None and self.algorithm not in _EC_HASHES:
            raise KeyInvalid(f"alg {self.algorithm} is not an ECDSA algorithm")
        object.__setattr__(self, "_key", key)

    @property
    def alg(self) -> int:
        """The bound algorithm: ``algorithm`` if given, else the curve's (ES256 for P-256, ...)."""
        return self.algorithm if self.algorithm is not None else _EC_CURVES[self.crv][2]

    def verify(self, message: bytes, signature: bytes) -> None:
        """Verify a raw ``r || s`` signature of the curve's exact size."""
        size = (_EC_CURVES[self.crv][1].key_size + 7) // 8
        if len(signature) != 2 * size:
            raise SignatureInvalid(f"an {ALGORITHM_NAMES[self.alg]} signature is {2 * size} bytes")
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
        try:
            self._key.verify(encode_dss_signature(r, s), message, ec.ECDSA(_EC_HASHES[self.alg]))
        except InvalidSignature:
            raise SignatureInvalid("signature does not verify") from None

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> ECPublicKey:
        """Load an RFC 7518 EC JWK."""
        if jwk.get("kty") != "EC" or jwk.get("crv") not in _EC_CURVES:
            raise KeyInvalid("JWK is not an EC P-256/384/521 key")
        kid = jwk.get("kid", "")
        return cls(
            jwk["crv"],
            b64url_decode(jwk.get("x"), "JWK x"),
            b64url_decode(jwk.get("y"), "JWK y"),
            kid.encode("utf-8") if isinstance(kid, str) else b"",
        )

    def to_jwk(self) -> dict[str, str]:
        """RFC 7518 EC JWK."""
        return {"kty": "EC", "crv": self.crv, "x": b64url_encode(self.x), "y": b64url_encode(self.y)}

    @classmethod
    def from_cose_key(cls, cose_key: Mapping[Any, Any]) -> ECPublicKey:
        """Load an EC2 COSE_Key."""
        crv = _EC_BY_COSE_CRV.get(cose_key.get(_CRV))  # type: ignore[arg-type]
        x, y = cose_key.get(_X), cose_key.get(_Y)
        if cose_key.get(_KTY) != _KTY_EC2 or crv is None:
            raise KeyInvalid("COSE_Key is not an EC2 P-256/384/521 key")
        if not isinstance(x, bytes) or not isinstance(y, bytes):
            raise KeyInvalid("COSE_Key x and y must be byte strings (compressed points unsupported)")
        kid = cose_key.get(_KID, b"")
        alg = cose_key.get(_ALG)
        explicit = alg if isinstance(alg, int) and alg != _EC_CURVES[crv][2] else None
        return cls(crv, x, y, kid if isinstance(kid, bytes) else b"", explicit)

    def to_cose_key(self) -> dict[int, Any]:
        """EC2 COSE_Key."""
        return {_KTY: _KTY_EC2, _ALG: self.alg, _CRV: _EC_CURVES[self.crv][0], _X: self.x, _Y: self.y}
