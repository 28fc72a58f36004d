"""Ed25519 (COSE alg -8, EdDSA), the official-ID algorithm: PyNaCl signs and verifies; PEM, JWK
(RFC 8037 OKP) and COSE_Key forms."""

from __future__ import annotations

from collections.abc import Container, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ClassVar

import nacl.exceptions
import nacl.signing
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from ..errors import KeyDecryptionFailed, KeyInvalid, KeyPassphraseRequired, SignatureInvalid
from .base import (
    _ALG,
    _CRV,
    _CRV_ED25519,
    _D,
    _KID,
    _KTY,
    _KTY_OKP,
    _X,
    ALG_EDDSA,
    b64url_decode,
    b64url_encode,
    kid_for,
)

BATCH_VERIFIED: ContextVar[Container[tuple[bytes, bytes, bytes]] | None] = ContextVar(
    "vcsdk_ed25519_batch_verified", default=None
)
"""(raw public key, message, signature) triples that a batch verification already proved valid;
set only by :mod:`vcsdk.verify.batch` for the duration of one batch, so that the usual pipeline
runs unchanged and :meth:`Ed25519PublicKey.verify` skips the second check of exactly those."""


@dataclass(frozen=True, slots=True)
class Ed25519PublicKey:
    """An Ed25519 public key (32 raw bytes). ``alg`` is always EdDSA (-8)."""

    raw: bytes
    kid: bytes = field(default=b"")
    _verifier: nacl.signing.VerifyKey = field(init=False, repr=False, compare=False)

    alg: ClassVar[int] = ALG_EDDSA

    def __post_init__(self) -> None:
        if not isinstance(self.raw, bytes) or len(self.raw) != 32:
            raise KeyInvalid("an Ed25519 public key is exactly 32 bytes")
        if not self.kid:
            object.__setattr__(self, "kid", kid_for(self.raw))
        object.__setattr__(self, "_verifier", nacl.signing.VerifyKey(self.raw))

    def verify(self, message: bytes, signature: bytes) -> None:
        """Verify an Ed25519 signature (libsodium: canonical S, no small-order keys)."""
        if len(signature) != 64:
            raise SignatureInvalid("an Ed25519 signature is exactly 64 bytes")
        proven = BATCH_VERIFIED.get()
        if proven is not None and (self.raw, message, signature) in proven:
            return
        try:
            self._verifier.verify(message, signature)
        except nacl.exceptions.BadSignatureError:
            raise SignatureInvalid("signature does not verify") from None

    @classmethod
    def from_pem(cls, data: bytes) -> Ed25519PublicKey:
        """Load a SubjectPublicKeyInfo PEM (``-----BEGIN PUBLIC KEY-----``)."""
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, TypeError) as exc:
            raise KeyInvalid(f"not a PEM public key ({exc})") from None
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise KeyInvalid("the PEM public key is not an Ed25519 key")
        return cls(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))

    def to_pem(self) -> bytes:
        """SubjectPublicKeyInfo PEM."""
        key = ed25519.Ed25519PublicKey.from_public_bytes(self.raw)
        return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> Ed25519PublicKey:
        """Load an RFC 8037 OKP JWK; a given ``kid`` must match the derived one."""
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise KeyInvalid("JWK is not an OKP Ed25519 key")
        raw = b64url_decode(jwk.get("x"), "JWK x")
        key = cls(raw)
        if "kid" in jwk and b64url_decode(jwk["kid"], "JWK kid") != key.kid:
            raise KeyInvalid("JWK kid does not match SHA-256(public key)[:8]")
        return key

    def to_jwk(self) -> dict[str, str]:
        """RFC 8037 JWK with the kid as unpadded base64url."""
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(self.raw), "kid": b64url_encode(self.kid)}

    @classmethod
    def from_cose_key(cls, cose_key: Mapping[Any, Any]) -> Ed25519PublicKey:
        """Load an OKP/Ed25519 COSE_Key."""
        if cose_key.get(_KTY) != _KTY_OKP or cose_key.get(_CRV) != _CRV_ED25519:
            raise KeyInvalid("COSE_Key is not an OKP Ed25519 key")
        if cose_key.get(_ALG, ALG_EDDSA) != ALG_EDDSA:
            raise KeyInvalid("COSE_Key alg is not EdDSA")
        raw = cose_key.get(_X)
        if not isinstance(raw, bytes):
            raise KeyInvalid("COSE_Key x must be a byte string")
        return cls(raw)

    def to_cose_key(self) -> dict[int, Any]:
        """OKP COSE_Key with kid and alg."""
        return {_KTY: _KTY_OKP, _KID: self.kid, _ALG: ALG_EDDSA, _CRV: _CRV_ED25519, _X: self.raw}


@dataclass(frozen=True, slots=True)
class Ed25519PrivateKey:
    """An Ed25519 signing key (its 32-byte seed). ``repr`` never shows the seed."""

    seed: bytes = field(repr=False)
    _signer: nacl.signing.SigningKey = field(init=False, repr=False, compare=False)
    public_key: Ed25519PublicKey = field(init=False)

    alg: ClassVar[int] = ALG_EDDSA

    def __post_init__(self) -> None:
        if not isinstance(self.seed, bytes) or len(self.seed) != 32:
            raise KeyInvalid("an Ed25519 private key (seed) is exactly 32 bytes")
        signer = nacl.signing.SigningKey(self.seed)
        object.__setattr__(self, "_signer", signer)
        object.__setattr__(self, "public_key", Ed25519PublicKey(bytes(signer.verify_key)))

    @property
    def kid(self) -> bytes:
        """The kid of the public half."""
        return self.public_key.kid

    @classmethod
    def generate(cls) -> Ed25519PrivateKey:
        """A fresh key from the operating system's CSPRNG."""
        return cls(bytes(nacl.signing.SigningKey.generate()))

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature over ``message`` (deterministic, RFC 8032)."""
        return self._signer.sign(message).signature

    def to_pem(self, passphrase: bytes | None = None) -> bytes:
        """PKCS#8 PEM, encrypted with ``passphrase`` when one is given."""
        key = ed25519.Ed25519PrivateKey.from_private_bytes(self.seed)
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
        )
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)

    @classmethod
    def from_pem(cls, data: bytes, passphrase: bytes | None = None) -> Ed25519PrivateKey:
        """Load a PKCS#8 PEM, decrypting it with ``passphrase`` when it is encrypted."""
        try:
            key = serialization.load_pem_private_key(data, password=passphrase or None)
        except TypeError as exc:
            if "encrypted" in str(exc) and not passphrase:
                raise KeyPassphraseRequired("the private key is encrypted: give its passphrase") from None
            raise KeyInvalid(f"not a PEM private key ({exc})") from None
        except ValueError as exc:
            if passphrase and b"ENCRYPTED" in data:
                raise KeyDecryptionFailed("the passphrase does not decrypt this private key") from None
            raise KeyInvalid(f"not a PEM private key ({exc})") from None
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise KeyInvalid("the PEM private key is not an Ed25519 key")
        return cls(
            key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
        )

    def to_jwk(self) -> dict[str, str]:
        """RFC 8037 private JWK (includes ``d``: handle as a secret)."""
        return {**self.public_key.to_jwk(), "d": b64url_encode(self.seed)}

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> Ed25519PrivateKey:
        """Load an RFC 8037 private OKP JWK; ``x`` if given must match ``d``."""
        public = Ed25519PublicKey.from_jwk(jwk)
        key = cls(b64url_decode(jwk.get("d"), "JWK d"))
        if key.public_key.raw != public.raw:
            raise KeyInvalid("JWK x does not belong to d")
        return key

    def to_cose_key(self) -> dict[int, Any]:
        """OKP COSE_Key including the private ``d`` (handle as a secret)."""
        return {**self.public_key.to_cose_key(), _D: self.seed}

    @classmethod
    def from_cose_key(cls, cose_key: Mapping[Any, Any]) -> Ed25519PrivateKey:
        """Load an OKP/Ed25519 COSE_Key holding ``d``."""
        seed = cose_key.get(_D)
        if not isinstance(seed, bytes):
            raise KeyInvalid("COSE_Key d must be a byte string")
        key = cls(seed)
        if _X in cose_key and Ed25519PublicKey.from_cose_key(cose_key).raw != key.public_key.raw:
            raise KeyInvalid("COSE_Key x does not belong to d")
        return key
