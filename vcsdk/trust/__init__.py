"""Trust: which issuer keys a verifier accepts, and the signed documents that carry them.

* :mod:`~vcsdk.trust.store` -- trusted keys with issuer, validity window and state;
* :mod:`~vcsdk.trust.trustlist` -- anchor-signed, versioned trust lists;
* :mod:`~vcsdk.trust.bundle` -- offline gate bundles (trust list + status lists + policy).
"""

from .store import KeyState, TrustedKey, TrustStore, jwks_for

__all__ = ["KeyState", "TrustStore", "TrustedKey", "jwks_for"]
