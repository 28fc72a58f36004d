"""Revocation, the verifier side: IETF Token Status Lists (draft 20).

* :mod:`~vcsdk.revocation.bitlist` -- the list codec (1/2/4/8 bits, LSB-first, zlib ``lst``);
* :mod:`~vcsdk.revocation.token` -- signed Status List Tokens (CWT);
* :mod:`~vcsdk.revocation.checker` -- the gate's cache of verified lists (a ``StatusChecker``).

The issuer side (index allocation, status changes, stores) is :mod:`vcsdk.registry.status`; its
names are still reachable here (``RegistryConfig``, ``StatusRegistry``, ``MemoryStatusStore``,
``StatusStore``) so existing callers keep working.
"""

from typing import Any

from ..verify.status import Status
from .bitlist import StatusList, StatusListBuilder, pack
from .checker import Freshness, StatusListChecker
from .token import DRAFT_20, TYP, ClaimKeys, StatusListToken, sign_token, verify_token

_ISSUER_SIDE = {
    "MemoryStatusStore": "MemoryStatusStore",
    "RegistryConfig": "StatusConfig",
    "StatusRegistry": "StatusAllocator",
    "StatusStore": "StatusStore",
}


def __getattr__(name: str) -> Any:
    """The issuer-side names, moved to :mod:`vcsdk.registry.status` (imported on first use)."""
    if name in _ISSUER_SIDE:
        from ..registry import status, stores

        return getattr(stores if name == "MemoryStatusStore" else status, _ISSUER_SIDE[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DRAFT_20",
    "TYP",
    "ClaimKeys",
    "Freshness",
    "Status",
    "StatusList",
    "StatusListBuilder",
    "StatusListChecker",
    "StatusListToken",
    "pack",
    "sign_token",
    "verify_token",
]
