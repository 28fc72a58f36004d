"""Public keys from interchange formats whatever their algorithm: ``cryptography`` objects,
COSE_Key maps and JWKs (each dispatches on the key type to :mod:`~vcsdk.keys.ed25519`,
:mod:`~vcsdk.keys.ecdsa` or :mod:`~vcsdk.keys.rsa`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ..errors import KeyInvalid
from .base import _KTY, _KTY_EC2, _KTY_OKP, PublicKey, b64url_decode
from .ecdsa import ECPublicKey
from .ed25519 import Ed25519PublicKey
from .rsa import RSAPSSPublicKey


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
