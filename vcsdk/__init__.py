"""vcsdk: issue and verify the Korean mobile official ID (모바일 공무원증) as a QR credential.

The safe layer::

    from vcsdk import Ed25519PrivateKey, Issuer, Verifier

    key = Ed25519PrivateKey.generate()
    credential = Issuer(key, "KR-MOIS").issue(claims_json)
    result = Verifier([key.public_key]).verify(credential.qr_text)

``vcsdk.codec`` holds the low-level, pure codecs (Base45, zlib, strict CBOR, COSE, CWT).
"""

from typing import TYPE_CHECKING

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
    FastVerifier,
    StatusCheck,
    StatusChecker,
    StatusPolicy,
    Verification,
    VerifiedCredential,
    Verifier,
)
from .verify.protocol import CredentialVerifier

if TYPE_CHECKING:  # the lazily imported names below, for type checkers
    from .gate import Gate
    from .profiles.hc1 import HC1Verifier
    from .verify.parallel import ParallelVerifier

__version__ = "0.1.0"

# Verifiers whose modules pull in more (X.509, multiprocessing, bundles): imported on first use.
_LAZY = {
    "Gate": ("vcsdk.gate", "Gate"),
    "HC1Verifier": ("vcsdk.profiles.hc1", "HC1Verifier"),
    "ParallelVerifier": ("vcsdk.verify.parallel", "ParallelVerifier"),
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'vcsdk' has no attribute {name!r}")


__all__ = [
    "DEFAULT_LIMITS",
    "OFFICIAL_ID",
    "Clock",
    "Code",
    "CredentialInvalid",
    "CredentialVerifier",
    "ECPublicKey",
    "Ed25519PrivateKey",
    "Ed25519PublicKey",
    "FastVerifier",
    "Gate",
    "HC1Verifier",
    "IssuedCredential",
    "Issuer",
    "Limits",
    "OfficialID",
    "ParallelVerifier",
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
