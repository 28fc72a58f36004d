"""vcsdk: issue and verify the Korean mobile official ID (모바일 공무원증) as a QR credential.

The safe layer::

    from vcsdk import Ed25519PrivateKey, Issuer, Verifier

    key = Ed25519PrivateKey.generate()
    credential = Issuer(key, "KR-MOIS").issue(claims_json)
    result = Verifier([key.public_key]).verify(credential.qr_text)

``vcsdk.codec`` holds the low-level, pure codecs (Base45, zlib, strict CBOR, COSE, CWT).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # every public name is imported on first use (PEP 562): `import vcsdk` stays cheap
    from .clock import Clock, fixed_clock, system_clock
    from .codec.cwt import StatusReference
    from .errors import Code, CredentialInvalid, UsageError, VCError
    from .gate import Gate
    from .issue import IssuedCredential, Issuer
    from .keys import ECPublicKey, Ed25519PrivateKey, Ed25519PublicKey, PublicKey, kid_for
    from .limits import DEFAULT_LIMITS, Limits
    from .profiles.base import OFFICIAL_ID, Profile
    from .profiles.hc1 import HC1Verifier
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
    from .verify.parallel import ParallelVerifier
    from .verify.protocol import CredentialVerifier

__version__ = "0.1.0"

_LAZY = {
    **dict.fromkeys(("Clock", "fixed_clock", "system_clock"), ".clock"),
    "StatusReference": ".codec.cwt",
    **dict.fromkeys(("Code", "CredentialInvalid", "UsageError", "VCError"), ".errors"),
    "Gate": ".gate",
    **dict.fromkeys(("IssuedCredential", "Issuer"), ".issue"),
    **dict.fromkeys(("ECPublicKey", "Ed25519PrivateKey", "Ed25519PublicKey", "PublicKey", "kid_for"), ".keys"),
    **dict.fromkeys(("DEFAULT_LIMITS", "Limits"), ".limits"),
    **dict.fromkeys(("OFFICIAL_ID", "Profile"), ".profiles.base"),
    "HC1Verifier": ".profiles.hc1",
    "OfficialID": ".profiles.official_id",
    **dict.fromkeys(("TrustedKey", "TrustStore"), ".trust.store"),
    **dict.fromkeys(
        (
            "FastVerifier",
            "StatusCheck",
            "StatusChecker",
            "StatusPolicy",
            "Verification",
            "VerifiedCredential",
            "Verifier",
        ),
        ".verify",
    ),
    "ParallelVerifier": ".verify.parallel",
    "CredentialVerifier": ".verify.protocol",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and cache the name here."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vcsdk' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


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
