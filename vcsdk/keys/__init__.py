"""Signing and verification keys, and their interchange formats.

Ed25519 (COSE alg -8, EdDSA) is the official-ID algorithm: PyNaCl signs and verifies. ECDSA keys
(ES256/384/512, COSE raw ``r || s`` signatures) verify through ``cryptography`` for interop.

The key decides the algorithm (go-cose's habit): every public key carries its ``alg`` and a
verifier refuses a message whose protected ``alg`` differs.

Formats: raw bytes, PEM (PKCS#8 / SubjectPublicKeyInfo, private keys optionally encrypted with
a passphrase), JWK (RFC 8037 OKP, RFC 7518 EC) and COSE_Key (RFC 9052/9053). This module is
pure; reading and writing key files lives in :mod:`vcsdk.keys.files`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import nacl.exceptions
import nacl.signing
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ..errors import (
    KeyDecryptionFailed,
    KeyInvalid,
    KeyPassphraseRequired,
    SignatureInvalid,
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
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise KeyInvalid(f"{what} is not valid base64url") from None


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


# --------------------------------------------------------------------------- Ed25519


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


# --------------------------------------------------------------------------- ECDSA


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


def public_key_from_cryptography(key: object, kid: bytes = b"") -> PublicKey:
    """Wrap a ``cryptography`` public key (Ed25519, EC P-256/384/521 or RSA for PS256)."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        return Ed25519PublicKey(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw), kid)
    if isinstance(key, ec.EllipticCurvePublicKey):
        names = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
        crv = names.get(key.curve.name)
        if crv is None:
            raise KeyInvalid(f"unsupported EC curve {key.curve.name}")
        numbers = key.public_numbers()
        size = (key.curve.key_size + 7) // 8
        return ECPublicKey(crv, numbers.x.to_bytes(size, "big"), numbers.y.to_bytes(size, "big"), kid)
    if isinstance(key, rsa.RSAPublicKey):
        return RSAPSSPublicKey.from_cryptography(key, kid)
    raise KeyInvalid(f"unsupported public key type {type(key).__name__}")


def public_key_from_cose_key(cose_key: Mapping[Any, Any]) -> PublicKey:
    """An Ed25519, EC or RSA (PS256) public key from its COSE_Key map."""
    if cose_key.get(_KTY) == _KTY_OKP:
        return Ed25519PublicKey.from_cose_key(cose_key)
    if cose_key.get(_KTY) == _KTY_EC2:
        return ECPublicKey.from_cose_key(cose_key)
    if cose_key.get(_KTY) == 3:
        n, e = cose_key.get(-1), cose_key.get(-2)
        if type(n) is not bytes or type(e) is not bytes:
            raise KeyInvalid("RSA COSE_Key n and e must be byte strings")
        return RSAPSSPublicKey(int.from_bytes(n, "big"), int.from_bytes(e, "big"))
    raise KeyInvalid("COSE_Key kty must be OKP (1), EC2 (2) or RSA (3)")


def public_key_from_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    """An Ed25519, EC or RSA (PS256) public key from its JWK."""
    if jwk.get("kty") == "OKP":
        return Ed25519PublicKey.from_jwk(jwk)
    if jwk.get("kty") == "EC":
        return ECPublicKey.from_jwk(jwk)
    if jwk.get("kty") == "RSA":
        n = int.from_bytes(b64url_decode(jwk.get("n"), "JWK n"), "big")
        e = int.from_bytes(b64url_decode(jwk.get("e"), "JWK e"), "big")
        return RSAPSSPublicKey(n, e)
    raise KeyInvalid("JWK kty must be OKP, EC or RSA")
