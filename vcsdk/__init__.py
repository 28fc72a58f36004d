"""vcsdk: issue and verify the Korean mobile official ID (모바일 공무원증) as a QR credential.

The safe layer::

    from vcsdk import Ed25519PrivateKey, Issuer, Verifier

    key = Ed25519PrivateKey.generate()
    credential = Issuer(key, "KR-MOIS").issue(claims_json)
    result = Verifier([key.public_key]).verify(credential.qr_text)

``vcsdk.codec`` holds the low-level, pure codecs (Base45, zlib, strict CBOR, COSE, CWT).
"""

from .clock import Clock, fixed_clock, system_clock
from .codec.cwt import StatusReference
from .errors import Code, CredentialInvalid, UsageError, VCError
from .issue import IssuedCredential, Issuer
from .keys import ECPublicKey, Ed25519PrivateKey, Ed25519PublicKey, PublicKey, kid_for
from .limits import DEFAULT_LIMITS, Limits
from .profiles.base import OFFICIAL_ID, Profile
from .profiles.official_id import OfficialID
from .trust.store import TrustedKey, TrustStore
from .verify import (
    StatusCheck,
    StatusChecker,
    StatusPolicy,
    Verification,
    VerifiedCredential,
    Verifier,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_LIMITS",
    "OFFICIAL_ID",
    "Clock",
    "Code",
    "CredentialInvalid",
    "ECPublicKey",
    "Ed25519PrivateKey",
    "Ed25519PublicKey",
    "IssuedCredential",
    "Issuer",
    "Limits",
    "OfficialID",
    "Profile",
    "PublicKey",
    "StatusCheck",
    "StatusChecker",
    "StatusPolicy",
    "StatusReference",
    "TrustStore",
    "TrustedKey",
    "UsageError",
    "VCError",
    "Verification",
    "VerifiedCredential",
    "Verifier",
    "fixed_clock",
    "kid_for",
    "system_clock",
]
