"""Signing and verification keys, and their interchange formats.

Ed25519 (COSE alg -8, EdDSA) is the official-ID algorithm: PyNaCl signs and verifies. ECDSA keys
(ES256/384/512, COSE raw ``r || s`` signatures) verify through ``cryptography`` for interop.

The key decides the algorithm (go-cose's habit): every public key carries its ``alg`` and a
verifier refuses a message whose protected ``alg`` differs.

Formats: raw bytes, PEM (PKCS#8 / SubjectPublicKeyInfo, private keys optionally encrypted with
a passphrase), JWK (RFC 8037 OKP, RFC 7518 EC) and COSE_Key (RFC 9052/9053). The package is
pure, one module per algorithm (:mod:`.ed25519`, :mod:`.ecdsa`, :mod:`.rsa`) plus
:mod:`.base` and :mod:`.formats`; reading and writing key files lives in :mod:`vcsdk.keys.files`.
"""

from .base import (
    ALG_EDDSA,
    ALG_ES256,
    ALG_ES384,
    ALG_ES512,
    ALG_PS256,
    ALGORITHM_NAMES,
    PublicKey,
    b64url_decode,
    b64url_encode,
    kid_for,
)
from .ecdsa import ECPublicKey
from .ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from .formats import public_key_from_cose_key, public_key_from_cryptography, public_key_from_jwk
from .rsa import RSAPSSPublicKey

__all__ = [
    "ALGORITHM_NAMES",
    "ALG_EDDSA",
    "ALG_ES256",
    "ALG_ES384",
    "ALG_ES512",
    "ALG_PS256",
    "ECPublicKey",
    "Ed25519PrivateKey",
    "Ed25519PublicKey",
    "PublicKey",
    "RSAPSSPublicKey",
    "b64url_decode",
    "b64url_encode",
    "kid_for",
    "public_key_from_cose_key",
    "public_key_from_cryptography",
    "public_key_from_jwk",
]
