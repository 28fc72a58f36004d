"""The verifier's seam for status checks (filled by :mod:`vcsdk.revocation`).

A :class:`StatusChecker` answers, from a cached and already verified status list, what the
status value at a credential's index is. It must not do I/O on the verify path.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Protocol

from ..codec.cwt import StatusReference
from ..trust.store import TrustedKey


class Status(IntEnum):
    """Status values of the official-ID profile (2-bit lists; IETF: 0 VALID, 1 INVALID, 2 SUSPENDED,
    3 application-specific)."""

    VALID = 0
    REVOKED = 1
    """Final: no transition out of it."""
    SUSPENDED = 2
    """E.g. the phone was reported lost; reversible (reinstate)."""
    NEEDS_RENEWAL = 3
    """E.g. promotion or transfer: the holder must get a re-issued credential."""


@dataclass(frozen=True, slots=True)
class StatusCheck:
    """The outcome of one status lookup."""

    value: int
    """The status value at the credential's index (0 VALID ... 3 NEEDS_RENEWAL)."""
    list_uri: str
    list_issued_at: int | None = None
    """``iat`` of the status list token the value came from (the verifier reports the list's
    age at verification time as ``VerifiedCredential.status_list_age``)."""


class StatusChecker(Protocol):
    """Looks up a credential's status in a cached list.

    ``issuer`` is the credential's ``iss`` and ``signer`` the trusted key that signed it: only a
    list signed by a key of that same issuer may answer. Return a :class:`StatusCheck`; raise
    :class:`vcsdk.errors.StatusUnknown` when no usable list covers ``reference`` (missing, from
    another issuer, invalid, stale past policy, index out of range).
    """

    def check(self, reference: StatusReference, now: int, *, issuer: str, signer: TrustedKey) -> StatusCheck: ...


class StatusPolicy(Enum):
    """What a verifier does when a credential's status cannot be established."""

    FAIL_CLOSED = "fail-closed"
    """Reject with ``STATUS_UNKNOWN`` (the default)."""
    ALLOW_UNKNOWN = "allow-unknown"
    """Accept; the result's ``status_check`` is None so the caller can see it was not checked."""
