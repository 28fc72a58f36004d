"""Revocation: IETF Token Status Lists (draft 20) for issuers and gates.

* :mod:`~vcsdk.revocation.bitlist` -- the list codec (1/2/4/8 bits, LSB-first, zlib ``lst``);
* :mod:`~vcsdk.revocation.token` -- signed Status List Tokens (CWT);
* :mod:`~vcsdk.revocation.checker` -- the gate's cache of verified lists (a ``StatusChecker``);
* :mod:`~vcsdk.revocation.registry` -- the issuer's allocation and status changes;
* :mod:`~vcsdk.revocation.sqlite_store` -- durable registry state in SQLite;
* :mod:`~vcsdk.revocation.w3c` -- the W3C Bitstring Status List codec, kept apart.
"""

from ..verify.status import Status
from .bitlist import StatusList, StatusListBuilder, pack
from .checker import Freshness, StatusListChecker
from .registry import MemoryStatusStore, RegistryConfig, StatusRegistry, StatusStore
from .sqlite_store import SQLiteStatusStore
from .token import DRAFT_20, TYP, ClaimKeys, StatusListToken, sign_token, verify_token

__all__ = [
    "DRAFT_20",
    "TYP",
    "ClaimKeys",
    "Freshness",
    "MemoryStatusStore",
    "RegistryConfig",
    "SQLiteStatusStore",
    "Status",
    "StatusList",
    "StatusListBuilder",
    "StatusListChecker",
    "StatusListToken",
    "StatusRegistry",
    "StatusStore",
    "pack",
    "sign_token",
    "verify_token",
]
