"""The reference wallet: a device key that never leaves it, a PIN with lock-out, presentations.

* :mod:`~vcsdk.wallet.store` -- the sealed wallet file (:class:`Wallet`, :class:`OpenWallet`).
* :mod:`~vcsdk.wallet.unlock` -- the :class:`Unlocker` seam and :class:`PinUnlocker` (Argon2id).
* :mod:`~vcsdk.wallet.client` -- the OpenID4VCI client that requests and refreshes the credential.
"""

from .client import IssuerClient, Offer, Transport, UrllibTransport
from .store import MAX_ATTEMPTS, HeldCredential, OpenWallet, Wallet, WalletStatus, read_credential
from .unlock import KDF_PROFILES, PinUnlocker, Unlocker

__all__ = [
    "KDF_PROFILES",
    "MAX_ATTEMPTS",
    "HeldCredential",
    "IssuerClient",
    "Offer",
    "OpenWallet",
    "PinUnlocker",
    "Transport",
    "Unlocker",
    "UrllibTransport",
    "Wallet",
    "WalletStatus",
    "read_credential",
]
