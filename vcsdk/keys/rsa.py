"""RSA public keys for PS256 (RSASSA-PSS, SHA-256), for EU DCC interop; JWK and RSA COSE_Key forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..errors import KeyInvalid, SignatureInvalid
from .base import _ALG, _KTY, ALG_PS256, b64url_encode


@dataclass(frozen=True, slots=True)
class RSAPSSPublicKey:
    """An RSA public key verifying PS256 (RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt)."""

    n: int
    e: int
    kid: bytes = b""
    _key: rsa.RSAPublicKey = field(init=False, repr=False, compare=False)

    alg: ClassVar[int] = ALG_PS256
    MIN_BITS: ClassVar[int] = 2048

    def __post_init__(self) -> None:
        if self.n.bit_length() < self.MIN_BITS:
            raise KeyInvalid(f"RSA keys shorter than {self.MIN_BITS} bits are refused")
        try:
            key = rsa.RSAPublicNumbers(self.e, self.n).public_key()
        except ValueError as exc:
            raise KeyInvalid(f"not a usable RSA public key ({exc})") from None
        object.__setattr__(self, "_key", key)

    @classmethod
    def from_cryptography(cls, key: rsa.RSAPublicKey, kid: bytes = b"") -> RSAPSSPublicKey:
        """Wrap a ``cryptography`` RSA public key."""
        numbers = key.public_numbers()
        return cls(numbers.n, numbers.e, kid)

    def verify(self, message: bytes, signature: bytes) -> None:
        """Verify a PS256 signature of exactly the modulus size."""
        if len(signature) != (self.n.bit_length() + 7) // 8:
            raise SignatureInvalid("a PS256 signature is as long as the modulus")
        try:
            self._key.verify(signature, message, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
        except InvalidSignature:
            raise SignatureInvalid("signature does not verify") from None

    def to_jwk(self) -> dict[str, str]:
        """RFC 7518 RSA JWK."""
        return {
            "kty": "RSA",
            "n": b64url_encode(self.n.to_bytes((self.n.bit_length() + 7) // 8, "big")),
            "e": b64url_encode(self.e.to_bytes((self.e.bit_length() + 7) // 8, "big")),
            "alg": "PS256",
        }

    def to_cose_key(self) -> dict[int, Any]:
        """RSA COSE_Key (RFC 8230)."""
        return {
            _KTY: 3,
            _ALG: ALG_PS256,
            -1: self.n.to_bytes((self.n.bit_length() + 7) // 8, "big"),
            -2: self.e.to_bytes((self.e.bit_length() + 7) // 8, "big"),
        }
